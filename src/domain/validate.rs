//! Validation rules shared by every endpoint that takes names, descriptions and passwords.

use super::errors::{Error, ErrorCode, Result};

pub const MAX_NAME_CHARS: usize = 128;
/// `-0000` suffix added to each name of a multi-server create.
pub const NAME_SUFFIX_CHARS: usize = 5;
pub const MAX_DESCRIPTION_CHARS: usize = 85;

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Server names (create, rename): 1–128 characters of `A-Z a-z 0-9 _ . -` and CJK ideographs.
pub fn server_name(name: &str, max_chars: usize) -> Result<()> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err(Error::new(ErrorCode::NameInvalid, "The ECS name must not be empty."));
    }
    if chars > max_chars {
        return Err(Error::new(
            ErrorCode::NameTooLong,
            format!("The ECS name has {chars} characters; at most {max_chars} are allowed."),
        ));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c) || is_cjk(*c))) {
        return Err(Error::new(
            ErrorCode::NameInvalid,
            format!("The ECS name contains the invalid character {bad:?}; use letters, digits, '_', '-' and '.'."),
        ));
    }
    Ok(())
}

pub fn description(text: &str) -> Result<()> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS || text.contains(['<', '>']) {
        return Err(Error::new(
            ErrorCode::InvalidDescription,
            format!("The description must have at most {MAX_DESCRIPTION_CHARS} characters and no '<' or '>'."),
        ));
    }
    Ok(())
}

/// The host name derived from a server name (RFC 952/1123: letters, digits, hyphens).
pub fn hostname_of(name: &str) -> String {
    let host: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(63).collect();
    let host = host.trim_matches('-');
    if host.is_empty() { "ecs".to_string() } else { host.to_string() }
}

/// Special characters allowed in a password set by the batch reset (T1.4).
pub const RESET_PASSWORD_SPECIALS: &str = "!@%-_=+[]:./?";
/// Special characters allowed in `adminPass` at create (T1.8).
pub const CREATE_PASSWORD_SPECIALS: &str = "!@$%^-_=+[{}]:,./?~#*";

/// The password rule of the contract (T1.4, ecsd's union of the published versions): 8–26
/// characters from letters, digits and the allowed specials, at least three of the four
/// classes, and nothing of the user names `root`/`Administrator` (nor them reversed, nor any
/// three consecutive characters of `administrator`).
pub fn password(password: &str, specials: &str) -> Result<()> {
    let weak = |why: &str| Err(Error::new(ErrorCode::WeakPassword, format!("The password {why}.")));
    let chars = password.chars().count();
    if !(8..=26).contains(&chars) {
        return weak("length must range from 8 to 26");
    }
    if password.chars().any(|c| !(c.is_ascii_alphanumeric() || specials.contains(c))) {
        return weak(&format!("may contain only letters, digits and the special characters {specials}"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| specials.contains(c)),
    ];
    if classes.iter().filter(|present| **present).count() < 3 {
        return weak(
            "must contain at least three of: upper-case letters, lower-case letters, digits, special characters",
        );
    }
    let lower = password.to_ascii_lowercase();
    if ["root", "toor", "administrator", "rotartsinimda"].iter().any(|name| lower.contains(name)) {
        return weak("must not contain the user name or the user name reversed");
    }
    let admin: Vec<char> = "administrator".chars().collect();
    if admin.windows(3).any(|w| lower.contains(&w.iter().collect::<String>())) {
        return weak("must not contain three consecutive characters of 'administrator'");
    }
    Ok(())
}

/// Most bytes of user data, once decoded.
pub const MAX_USER_DATA_BYTES: usize = 32 * 1024;

/// `user_data`: base64 of at most 32 KiB (a create's and a rebuild's).
pub fn user_data(encoded: &str) -> Result<()> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(encoded) {
        Ok(bytes) if bytes.len() <= MAX_USER_DATA_BYTES => Ok(()),
        Ok(_) => Err(Error::invalid(format!("user_data holds more than {MAX_USER_DATA_BYTES} bytes once decoded."))),
        Err(_) => Err(Error::invalid("user_data must be base64-encoded.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<()>) -> Option<&'static str> {
        r.err().map(|e| e.code.code())
    }

    #[test]
    fn names_follow_the_character_and_length_rules() {
        assert_eq!(code(server_name("web-01_a.b", 128)), None);
        assert_eq!(code(server_name("服务器", 128)), None);
        assert_eq!(code(server_name("", 128)), Some("Ecs.0915"));
        assert_eq!(code(server_name("a b", 128)), Some("Ecs.0915"));
        assert_eq!(code(server_name(&"a".repeat(129), 128)), Some("Ecs.0914"));
    }

    #[test]
    fn descriptions_are_short_and_free_of_angle_brackets() {
        assert_eq!(code(description("web tier")), None);
        assert_eq!(code(description("<b>")), Some("Ecs.0041"));
        assert_eq!(code(description(&"x".repeat(86))), Some("Ecs.0041"));
    }

    #[test]
    fn passwords_follow_the_complexity_rules() {
        let ok = |p: &str| assert_eq!(code(password(p, RESET_PASSWORD_SPECIALS)), None, "{p}");
        let weak = |p: &str| assert_eq!(code(password(p, RESET_PASSWORD_SPECIALS)), Some("Ecs.0011"), "{p}");
        ok("Test@123456");
        ok("abcdEFGH1234");
        weak("Sh0rt!");
        weak(&format!("Aa1!{}", "x".repeat(23)));
        weak("alllowercase1");
        weak("Test#123456");
        weak("Myroot@1234");
        weak("Mytoor@1234");
        weak("Xmin@12345ZZ");
        weak("Test 123456");
    }

    #[test]
    fn hostnames_are_derived_from_names() {
        assert_eq!(hostname_of("Web_01.prod"), "web-01-prod");
        assert_eq!(hostname_of("___"), "ecs");
    }
}
