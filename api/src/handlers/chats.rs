//! Linking messenger chats to an account made through the API.

use crate::error::{ApiError, ErrorBody};
use crate::extract::AuthUser;
use crate::state::AppState;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Serialize;
use spendstream_core::chats::link_code_hash;
use utoipa::ToSchema;

/// Letters and digits that cannot be misread for one another (no 0/O, 1/I/L, U/V).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTWXYZ23456789";

/// A one-time code for `/link CODE`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkCode {
    /// The code, e.g. `4F7Q-K2M9` (case and dashes do not matter).
    pub code: String,
    /// When it stops working (RFC 3339, UTC).
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    /// What to do with it.
    pub instructions: String,
}

/// Eight characters of [`ALPHABET`] as `XXXX-XXXX` (about 39 bits).
fn new_code() -> String {
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of 29: the bias (under 1%) costs well under a bit.
    let chars: Vec<char> = bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect();
    format!("{}-{}", chars[..4].iter().collect::<String>(), chars[4..].iter().collect::<String>())
}

/// A one-time code that links a Telegram or WhatsApp chat to this account: send
/// `/link CODE` to the bot before it expires (`bot.link_code_ttl_secs`).
#[utoipa::path(post, path = "/v1/link-codes", tag = "me", security(("bearer" = [])),
    responses((status = 201, body = LinkCode), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create_link_code(
    State(state): State<AppState>,
    AuthUser(uid): AuthUser,
) -> Result<(StatusCode, Json<LinkCode>), ApiError> {
    let code = new_code();
    let ttl = jiff::SignedDuration::from_secs(i64::try_from(state.config.bot.link_code_ttl_secs).unwrap_or(i64::MAX));
    let expires_at = Timestamp::now().checked_add(ttl).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.chats.create_link_code(&link_code_hash(&code), uid, expires_at).await?;
    let instructions = format!("Send /link {code} to the spendstream bot on Telegram or WhatsApp.");
    Ok((StatusCode::CREATED, Json(LinkCode { code, expires_at, instructions })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_two_groups_of_unambiguous_characters() {
        let a = new_code();
        assert_eq!(a.len(), 9);
        assert_eq!(a.as_bytes()[4], b'-');
        assert!(a.bytes().filter(|b| *b != b'-').all(|b| ALPHABET.contains(&b)), "{a}");
        assert_ne!(new_code(), new_code());
    }
}
