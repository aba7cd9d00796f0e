//! Server tags (contract T2.1–T2.4): the key and value rules, adding and deleting tags of one
//! server, and the queries that find servers by tag.

use std::collections::HashSet;

use super::errors::{Error, ErrorCode, Result};
use super::server::Tag;

/// Most tags one server may have.
pub const MAX_TAGS: usize = 10;
pub const MAX_KEY_CHARS: usize = 36;
pub const MAX_VALUE_CHARS: usize = 43;
/// The looser limits of what a delete or a query may name (keys it could never match are
/// simply not found).
pub const MAX_QUERY_KEY_CHARS: usize = 127;
pub const MAX_QUERY_VALUE_CHARS: usize = 255;
/// Most keys in one list of a query, and most values for one key.
pub const MAX_QUERY_KEYS: usize = 10;
pub const MAX_QUERY_VALUES: usize = 10;

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

fn invalid(tag: &Tag, why: &str) -> Error {
    Error::new(ErrorCode::InvalidTag, format!("The tag {}={} is invalid: {why}.", tag.key, tag.value))
}

/// One tag to be set: key 1–36 letters, digits, `-`, `_` or CJK ideographs; value up to 43 of
/// those or `.`.
pub fn check(tag: &Tag) -> Result<()> {
    let key_chars = tag.key.chars().count();
    if key_chars == 0 {
        return Err(invalid(tag, "the key must not be empty"));
    }
    if key_chars > MAX_KEY_CHARS || tag.value.chars().count() > MAX_VALUE_CHARS {
        return Err(invalid(tag, &format!("a key has at most {MAX_KEY_CHARS} characters, a value {MAX_VALUE_CHARS}")));
    }
    if !tag.key.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c) || is_cjk(c)) {
        return Err(invalid(tag, "a key may contain only letters, digits, '-' and '_'"));
    }
    if !tag.value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c) || is_cjk(c)) {
        return Err(invalid(tag, "a value may contain only letters, digits, '-', '_' and '.'"));
    }
    Ok(())
}

fn unique_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<()> {
    let mut seen = HashSet::new();
    for key in keys {
        if !seen.insert(key) {
            return Err(Error::new(ErrorCode::DuplicateTagKey, format!("The tag key {key} appears more than once.")));
        }
    }
    Ok(())
}

/// Tags a request sets (at create, or by `tags/action` `create`): each valid, each key once.
pub fn check_new(tags: &[Tag]) -> Result<()> {
    for tag in tags {
        check(tag)?;
    }
    unique_keys(tags.iter().map(|t| t.key.as_str()))
}

fn too_many(count: usize) -> Error {
    Error::new(ErrorCode::TooManyTags, format!("A server has at most {MAX_TAGS} tags; this would make {count}."))
}

/// The tags a server has after adding `adding` to `current`: a tag with a key the server has
/// replaces its value (adding the same tag again changes nothing), others are appended.
pub fn add(current: &[Tag], adding: &[Tag]) -> Result<Vec<Tag>> {
    check_new(adding)?;
    let mut tags = current.to_vec();
    for tag in adding {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value.clone(),
            None => tags.push(tag.clone()),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(too_many(tags.len()));
    }
    Ok(tags)
}

/// A tag to delete: by key, or by key and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagToDelete {
    pub key: String,
    /// Given: the tag goes only when its value is this one.
    pub value: Option<String>,
}

/// The tags a server keeps after deleting `deleting`. A tag it does not have is no error.
pub fn delete(current: &[Tag], deleting: &[TagToDelete]) -> Result<Vec<Tag>> {
    for tag in deleting {
        let chars = tag.key.chars().count();
        let value_chars = tag.value.as_deref().map_or(0, |v| v.chars().count());
        if chars == 0 || chars > MAX_QUERY_KEY_CHARS || value_chars > MAX_QUERY_VALUE_CHARS {
            return Err(Error::new(
                ErrorCode::InvalidTag,
                format!(
                    "The tag key {:?} is invalid: a key has 1 to {MAX_QUERY_KEY_CHARS} characters, a value at most \
                     {MAX_QUERY_VALUE_CHARS}.",
                    tag.key
                ),
            ));
        }
    }
    unique_keys(deleting.iter().map(|t| t.key.as_str()))?;
    Ok(current
        .iter()
        .filter(|tag| !deleting.iter().any(|d| d.key == tag.key && d.value.as_deref().is_none_or(|v| v == tag.value)))
        .cloned()
        .collect())
}

/// One key of a query by tag, with the values any of which it may have (any value when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMatch {
    pub key: String,
    pub values: Vec<String>,
}

/// A query of `resource_instances/action`: a server matches when it has every tag of `all`,
/// at least one of `any` (when given), not all of `not_all` (when given), none of `not_any`,
/// and its name contains `name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagQuery {
    pub all: Vec<TagMatch>,
    pub any: Vec<TagMatch>,
    pub not_all: Vec<TagMatch>,
    pub not_any: Vec<TagMatch>,
    pub name: Option<String>,
}

impl TagQuery {
    /// The documented limits: at most 10 keys a list, each once, non-empty and at most 127
    /// characters; at most 10 values a key, each once and at most 255 characters.
    pub fn validate(&self) -> Result<()> {
        for (field, list) in
            [("tags", &self.all), ("tags_any", &self.any), ("not_tags", &self.not_all), ("not_tags_any", &self.not_any)]
        {
            if list.len() > MAX_QUERY_KEYS {
                return Err(Error::invalid(format!("{field} has more than {MAX_QUERY_KEYS} keys.")));
            }
            let mut keys = HashSet::new();
            for tag in list {
                let chars = tag.key.chars().count();
                if chars == 0 || chars > MAX_QUERY_KEY_CHARS {
                    return Err(Error::invalid(format!(
                        "A key of {field} must have 1 to {MAX_QUERY_KEY_CHARS} characters."
                    )));
                }
                if !keys.insert(&tag.key) {
                    return Err(Error::invalid(format!("The key {} appears twice in {field}.", tag.key)));
                }
                if tag.values.len() > MAX_QUERY_VALUES {
                    return Err(Error::invalid(format!(
                        "The key {} of {field} has more than {MAX_QUERY_VALUES} values.",
                        tag.key
                    )));
                }
                let mut values = HashSet::new();
                for value in &tag.values {
                    if value.chars().count() > MAX_QUERY_VALUE_CHARS {
                        return Err(Error::invalid(format!(
                            "A value of {field} has more than {MAX_QUERY_VALUE_CHARS} characters."
                        )));
                    }
                    if !values.insert(value) {
                        return Err(Error::invalid(format!(
                            "The value {value} appears twice for the key {} of {field}.",
                            tag.key
                        )));
                    }
                }
            }
        }
        if let Some(name) = &self.name
            && (name.is_empty() || name.chars().count() > MAX_QUERY_VALUE_CHARS)
        {
            return Err(Error::invalid(format!(
                "The resource_name to match must have 1 to {MAX_QUERY_VALUE_CHARS} characters."
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, value: &str) -> Tag {
        Tag { key: key.into(), value: value.into() }
    }

    fn code<T>(result: Result<T>) -> Option<&'static str> {
        result.err().map(|e| e.code.code())
    }

    #[test]
    fn keys_and_values_follow_the_character_and_length_rules() {
        assert_eq!(code(check(&tag("env", "prod-1.2"))), None);
        assert_eq!(code(check(&tag("环境", "生产"))), None);
        assert_eq!(code(check(&tag("", "v"))), Some("Ecs.0906"));
        assert_eq!(code(check(&tag(&"k".repeat(37), "v"))), Some("Ecs.0906"));
        assert_eq!(code(check(&tag("k", &"v".repeat(44)))), Some("Ecs.0906"));
        assert_eq!(code(check(&tag("k.k", "v"))), Some("Ecs.0906"));
        assert_eq!(code(check(&tag("k", "a=b"))), Some("Ecs.0906"));
        assert_eq!(code(check_new(&[tag("a", "1"), tag("a", "2")])), Some("Ecs.0908"));
    }

    #[test]
    fn adding_overwrites_a_value_appends_new_keys_and_counts_to_ten() {
        let current = vec![tag("env", "dev"), tag("team", "a")];
        assert_eq!(
            add(&current, &[tag("env", "prod"), tag("tier", "web")]),
            Ok(vec![tag("env", "prod"), tag("team", "a"), tag("tier", "web")])
        );
        assert_eq!(add(&current, &[tag("env", "dev")]), Ok(current.clone()));
        let nine: Vec<Tag> = (0..9).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(add(&current, &nine).is_err_and(|e| e.code == ErrorCode::TooManyTags));
        assert_eq!(add(&current, &nine[..8]).map(|t| t.len()), Ok(10));
    }

    #[test]
    fn deleting_matches_the_key_and_a_given_value_and_ignores_missing_tags() {
        let current = vec![tag("env", "prod"), tag("team", "a")];
        let by_key = TagToDelete { key: "env".into(), value: None };
        assert_eq!(delete(&current, &[by_key]), Ok(vec![tag("team", "a")]));
        let wrong_value = TagToDelete { key: "env".into(), value: Some("dev".into()) };
        assert_eq!(delete(&current, &[wrong_value]), Ok(current.clone()));
        let missing = TagToDelete { key: "nope".into(), value: None };
        assert_eq!(delete(&current, &[missing]), Ok(current.clone()));
        let empty = TagToDelete { key: String::new(), value: None };
        assert_eq!(code(delete(&current, &[empty])), Some("Ecs.0906"));
    }

    #[test]
    fn queries_are_limited_as_documented() {
        let key = |k: &str, values: &[&str]| TagMatch {
            key: k.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        assert_eq!(code(TagQuery { all: vec![key("a", &["1", "2"])], ..TagQuery::default() }.validate()), None);
        assert_eq!(
            code(TagQuery { all: vec![key("a", &[]), key("a", &[])], ..TagQuery::default() }.validate()),
            Some("Ecs.0005")
        );
        assert_eq!(
            code(TagQuery { any: vec![key("a", &["1", "1"])], ..TagQuery::default() }.validate()),
            Some("Ecs.0005")
        );
        assert_eq!(code(TagQuery { not_any: vec![key("", &[])], ..TagQuery::default() }.validate()), Some("Ecs.0005"));
        let eleven = (0..11).map(|i| key(&format!("k{i}"), &[])).collect();
        assert_eq!(code(TagQuery { not_all: eleven, ..TagQuery::default() }.validate()), Some("Ecs.0005"));
        assert_eq!(code(TagQuery { name: Some(String::new()), ..TagQuery::default() }.validate()), Some("Ecs.0005"));
    }
}
