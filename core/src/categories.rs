//! Category definitions as they appear in config (`[[categories]]`).

use serde::{Deserialize, Serialize};

/// A category id such as `food_dining`: lower-case ASCII letters, digits and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CategoryId(pub String);

impl CategoryId {
    /// The fallback category every config must define.
    pub fn other() -> Self {
        CategoryId("other".to_owned())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CategoryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One category: how it is shown and the rules that select it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    /// Stable id used in entries, reports and SQL.
    pub id: CategoryId,
    /// Display name.
    pub name: String,
    /// One emoji shown beside the name in chats.
    #[serde(default)]
    pub emoji: String,
    /// Words in a merchant string or note that select this category.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Merchant names (brands) that select this category.
    #[serde(default)]
    pub merchants: Vec<String>,
    /// Regular expressions matched case-insensitively against the raw merchant or note
    /// text, e.g. `^[a-z0-9._-]+@[a-z]+$` for a UPI handle.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Rules on the amount and the payment channel, tried only when no merchant name,
    /// pattern or keyword of any category matched; the first that holds wins.
    #[serde(default)]
    pub when: Vec<Condition>,
}

/// Payment channels a bank SMS can name (see the SMS parser).
pub const CHANNELS: [&str; 8] = ["upi", "card", "atm", "netbanking", "wallet", "transfer", "refund", "other"];

/// A rule on an entry's amount and channel: every field given must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The payment channel from a bank SMS (`atm`, `upi`, ...).
    #[serde(default)]
    pub channel: Option<String>,
    /// The currency `min_amount` and `max_amount` are in; other currencies never match them.
    #[serde(default)]
    pub currency: Option<crate::money::Currency>,
    /// Smallest amount, inclusive, as a decimal (`"10000"`).
    #[serde(default)]
    pub min_amount: Option<String>,
    /// Largest amount, inclusive.
    #[serde(default)]
    pub max_amount: Option<String>,
}

/// The display name of `id` in `defs`, or the id itself when it is not configured.
pub fn category_name(defs: &[CategoryDef], id: &CategoryId) -> String {
    defs.iter().find(|d| d.id == *id).map_or_else(|| id.to_string(), |d| d.name.clone())
}

/// Checks category definitions and returns every problem, each prefixed with its key path
/// (`categories[3].keywords[1]: ...`); an empty list means the definitions are usable.
///
/// Checked: ids are unique, match `[a-z][a-z0-9_]*` and include `other`; names are not
/// blank; keywords and merchants contain a letter or digit, use `*` only as a final
/// prefix marker and do not appear in two categories; patterns compile as regexes.
pub fn validate_categories(defs: &[CategoryDef]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut first_id: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut first_rule: std::collections::HashMap<String, (usize, String)> = std::collections::HashMap::new();
    for (i, def) in defs.iter().enumerate() {
        let id = def.id.as_str();
        if !valid_id(id) {
            problems.push(format!(
                "categories[{i}].id: '{id}' must start with a lower-case ASCII letter and contain only a-z, 0-9 and '_'"
            ));
        }
        if let Some(first) = first_id.get(id) {
            problems.push(format!("categories[{i}].id: duplicate id '{id}' (first defined at categories[{first}])"));
        } else {
            first_id.insert(id, i);
        }
        if def.name.trim().is_empty() {
            problems.push(format!("categories[{i}].name: must not be empty"));
        }
        for (field, list) in [("merchants", &def.merchants), ("keywords", &def.keywords)] {
            for (j, rule) in list.iter().enumerate() {
                let path = format!("categories[{i}].{field}[{j}]");
                let body = rule.trim().strip_suffix('*').unwrap_or(rule.trim());
                if !body.chars().any(char::is_alphanumeric) {
                    problems.push(format!("{path}: '{rule}' has no letter or digit"));
                    continue;
                }
                if body.contains('*') {
                    problems.push(format!("{path}: '{rule}' may use '*' only at the end (prefix match)"));
                }
                let key = rule_key(rule);
                match first_rule.get(&key) {
                    Some((other_cat, other_path)) if *other_cat != i => problems
                        .push(format!("{path}: '{rule}' also selects '{}' at {other_path}", defs[*other_cat].id)),
                    Some(_) => {}
                    None => {
                        first_rule.insert(key, (i, path));
                    }
                }
            }
        }
        for (j, pattern) in def.patterns.iter().enumerate() {
            if let Err(e) = regex::RegexBuilder::new(pattern).case_insensitive(true).build() {
                let msg = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
                problems.push(format!("categories[{i}].patterns[{j}]: invalid regex: {msg}"));
            }
        }
    }
    for (i, def) in defs.iter().enumerate() {
        for (j, c) in def.when.iter().enumerate() {
            let path = format!("categories[{i}].when[{j}]");
            if c.channel.is_none() && c.min_amount.is_none() && c.max_amount.is_none() {
                problems.push(format!("{path}: give a channel, a min_amount or a max_amount"));
            }
            if let Some(ch) = &c.channel
                && !CHANNELS.contains(&ch.as_str())
            {
                problems.push(format!("{path}.channel: '{ch}' is not one of {}", CHANNELS.join(", ")));
            }
            for (key, amount) in [("min_amount", &c.min_amount), ("max_amount", &c.max_amount)] {
                let Some(a) = amount else { continue };
                match c.currency {
                    None => problems.push(format!("{path}.{key}: needs a currency")),
                    Some(cur) => {
                        if let Err(e) = cur.parse_amount(a) {
                            problems.push(format!("{path}.{key}: '{a}': {e}"));
                        }
                    }
                }
            }
        }
    }
    if !first_id.contains_key("other") {
        problems.push("categories: no category with id 'other' (the required fallback)".to_owned());
    }
    problems
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Lower-cases a rule the way the categoriser reads it (apostrophes dropped, `+` after a
/// word read as `plus`, any other non-alphanumeric run one space, a final `*` kept), so
/// `H&M` and `h & m` count as the same rule.
fn rule_key(rule: &str) -> String {
    let lower = rule.trim().to_lowercase();
    let (body, star) = match lower.strip_suffix('*') {
        Some(b) => (b, "*"),
        None => (lower.as_str(), ""),
    };
    let mut key = String::new();
    let mut after_word = false;
    for c in body.chars() {
        if c.is_alphanumeric() {
            if !after_word && !key.is_empty() {
                key.push(' ');
            }
            key.push(c);
            after_word = true;
        } else if c == '\'' || c == '\u{2019}' {
            continue;
        } else if c == '+' && after_word {
            key.push_str(" plus");
        } else {
            after_word = false;
        }
    }
    key.push_str(star);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str) -> CategoryDef {
        CategoryDef {
            id: CategoryId(id.to_owned()),
            name: id.to_owned(),
            emoji: String::new(),
            keywords: Vec::new(),
            merchants: Vec::new(),
            patterns: Vec::new(),
            when: Vec::new(),
        }
    }

    #[test]
    fn valid_definitions_have_no_problems() {
        let mut food = def("food_dining");
        food.keywords = vec!["pizza".into(), "cafe*".into()];
        food.patterns = vec!["^tst\\*".into()];
        assert!(validate_categories(&[food, def("other")]).is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut a = def("Food");
        a.name = " ".into();
        a.keywords = vec!["**".into(), "ca*fe".into(), "pizza".into()];
        a.patterns = vec!["(".into()];
        let mut b = def("Food");
        b.merchants = vec!["PIZZA".into()];
        let problems = validate_categories(&[a, b]);
        let all = problems.join("\n");
        assert!(all.contains("categories[0].id: 'Food' must start"), "{all}");
        assert!(all.contains("categories[1].id: duplicate id 'Food'"), "{all}");
        assert!(all.contains("categories[0].name: must not be empty"), "{all}");
        assert!(all.contains("categories[0].keywords[0]: '**' has no letter"), "{all}");
        assert!(all.contains("categories[0].keywords[1]: 'ca*fe' may use '*'"), "{all}");
        assert!(all.contains("categories[0].patterns[0]: invalid regex"), "{all}");
        assert!(
            all.contains("categories[1].merchants[0]: 'PIZZA' also selects 'Food' at categories[0].keywords[2]"),
            "{all}"
        );
        assert!(all.contains("no category with id 'other'"), "{all}");
    }

    #[test]
    fn rule_keys_match_the_categoriser_reading() {
        assert_eq!(rule_key("H&M"), "h m");
        assert_eq!(rule_key(" h & m "), "h m");
        assert_eq!(rule_key("Macy's"), "macys");
        assert_eq!(rule_key("Disney+"), "disney plus");
        assert_eq!(rule_key("supermarkt*"), "supermarkt*");
    }
}
