//! The bot's texts: `config/bot.toml`, one table per language, `{name}` placeholders.

use figment::Figment;
use figment::providers::{Format, Toml};
use std::collections::{BTreeMap, BTreeSet};

/// The shipped texts.
pub const SHIPPED_TOML: &str = include_str!("../../config/bot.toml");

/// Texts that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("bot texts: {0}")]
pub struct TextsError(String);

/// The texts of one language, complete: what the chosen language lacks comes from `en`.
#[derive(Debug, Clone)]
pub struct Texts {
    map: BTreeMap<String, String>,
}

type Tables = BTreeMap<String, BTreeMap<String, String>>;

fn parse(toml: &str, origin: &str) -> Result<Tables, TextsError> {
    Figment::from(Toml::string(toml)).extract().map_err(|e| TextsError(format!("{origin}: {e}")))
}

impl Texts {
    /// The shipped texts in `language`.
    pub fn shipped(language: &str) -> Result<Texts, TextsError> {
        Texts::from_tables(parse(SHIPPED_TOML, "config/bot.toml")?, language)
    }

    /// The texts of `bot.texts` (empty: shipped) in `bot.language`.
    pub fn from_config(path: &str, language: &str) -> Result<Texts, TextsError> {
        if path.is_empty() {
            return Texts::shipped(language);
        }
        let raw = std::fs::read_to_string(path).map_err(|e| TextsError(format!("{path}: {e}")))?;
        Texts::from_tables(parse(&raw, path)?, language)
    }

    /// Layers `en` of the shipped texts, `en` of `tables`, then `language` of `tables`.
    /// A text name the shipped `en` lacks is refused (a typo would otherwise go unseen).
    fn from_tables(tables: Tables, language: &str) -> Result<Texts, TextsError> {
        let shipped = parse(SHIPPED_TOML, "config/bot.toml")?;
        let mut map = shipped.get("en").cloned().ok_or_else(|| TextsError("config/bot.toml has no [en]".into()))?;
        let known: BTreeSet<String> = map.keys().cloned().collect();
        if language != "en" && !tables.contains_key(language) {
            return Err(TextsError(format!("no [{language}] table (bot.language)")));
        }
        for lang in ["en", language] {
            for (name, text) in tables.get(lang).into_iter().flatten() {
                if !known.contains(name) {
                    return Err(TextsError(format!("[{lang}] {name}: no such text")));
                }
                map.insert(name.clone(), text.clone());
            }
        }
        Ok(Texts { map })
    }

    /// The text `name` with no placeholders filled.
    pub fn get<'a>(&'a self, name: &'a str) -> &'a str {
        self.map.get(name).map(String::as_str).unwrap_or(name)
    }

    /// The text `name` with `{key}` placeholders filled from `values`.
    pub fn fill(&self, name: &str, values: &[(&str, &str)]) -> String {
        let values: BTreeMap<String, String> = values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        spendstream_core::insight::render(self.get(name), &values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_english_fills_placeholders() {
        let t = Texts::shipped("en").expect("shipped");
        assert_eq!(t.fill("link_bad", &[]), t.get("link_bad"));
        assert_eq!(t.fill("amount_question", &[("question", "1.20 or 1200?")]), "1.20 or 1200?");
    }

    #[test]
    fn a_language_falls_back_to_english_and_typos_are_refused() {
        let tables = parse("[hi]\nbutton_undo = \"वापस लें\"\n", "test").expect("toml");
        let t = Texts::from_tables(tables, "hi").expect("hindi");
        assert_eq!(t.get("button_undo"), "वापस लें");
        assert_eq!(t.get("button_more"), "More");
        let typo = parse("[en]\nbuton_undo = \"x\"\n", "test").expect("toml");
        assert!(Texts::from_tables(typo, "en").unwrap_err().to_string().contains("buton_undo"));
        assert!(Texts::shipped("xx").is_err(), "a language with no table");
    }
}
