//! Passwords (argon2id), access tokens (HS256 JWT) and refresh tokens (random,
//! stored hashed, rotated on use).

use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spendstream_core::UserId;
use spendstream_core::config::AuthConfig;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    typ: String,
}

/// Issues and checks tokens.
pub struct Tokens {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
    /// Access token lifetime in seconds.
    pub access_ttl: i64,
    /// Refresh token lifetime in seconds.
    pub refresh_ttl: i64,
    dummy_hash: String,
}

impl Tokens {
    /// Keys from the HMAC secret.
    pub fn new(secret: &[u8], cfg: &AuthConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Tokens {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
            validation,
            access_ttl: cfg.access_token_ttl_secs as i64,
            refresh_ttl: cfg.refresh_token_ttl_days as i64 * 86_400,
            dummy_hash: hash_password_blocking("not a real password, only for timing").unwrap_or_default(),
        }
    }

    /// A signed access token for `user`.
    pub fn issue_access(&self, user: UserId) -> Result<String, ApiError> {
        let now = jiff::Timestamp::now().as_second();
        let claims = Claims { sub: user.to_string(), iat: now, exp: now + self.access_ttl, typ: "access".into() };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.enc)
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// The user of a valid, unexpired access token.
    pub fn verify_access(&self, token: &str) -> Result<UserId, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &self.validation)
            .map_err(|e| ApiError::Unauthorized(format!("invalid access token: {e}")))?;
        if data.claims.typ != "access" {
            return Err(ApiError::Unauthorized("not an access token".into()));
        }
        uuid::Uuid::parse_str(&data.claims.sub)
            .map(UserId)
            .map_err(|_| ApiError::Unauthorized("invalid access token subject".into()))
    }

    /// A verification that always fails, to spend the same time for unknown emails.
    pub fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }
}

/// Every API token starts with this, so it is recognised (and never taken for a JWT).
pub const API_TOKEN_PREFIX: &str = "sst_";

/// The scope that lets a token post SMS to `POST /v1/ingest/sms`.
pub const SCOPE_INGEST_SMS: &str = "ingest:sms";

/// A new random API token and its storage hash (SHA-256, as for refresh tokens).
pub fn new_api_token() -> (String, String) {
    let (secret, _) = new_refresh_token();
    let token = format!("{API_TOKEN_PREFIX}{secret}");
    let hash = refresh_hash(&token);
    (token, hash)
}

/// A new random refresh token and its storage hash.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = refresh_hash(&token);
    (token, hash)
}

/// The storage hash of a refresh or API token (SHA-256, hex).
pub fn refresh_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// SHA-256 of `bytes`, lower-case hex (token hashes, idempotency fingerprints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Argon2id hash of a password (blocking: call from `spawn_blocking`).
pub fn hash_password_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Checks a password against an argon2 hash (blocking).
pub fn verify_password_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Runs a blocking password operation off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))
}

/// A random secret for signing tokens, base64.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 48];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
