//! Reading CSV lines as spreadsheets write them: a comma or a semicolon between fields
//! (German Excel uses semicolons), double quotes around fields that contain one, `""` for a
//! quote inside. Whole files stay with their readers, which know their columns.

/// The separator a header line uses: the semicolon when it has more of those than commas.
pub fn separator_of(header: &str) -> char {
    if header.matches(';').count() > header.matches(',').count() {
        ';'
    } else {
        ','
    }
}

/// Splits one line into its trimmed fields.
pub fn fields(line: &str, separator: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (c, false) if c == separator => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_their_separators_and_doubled_quotes() {
        assert_eq!(
            fields(r#"a; "b;c" ;"say ""hi""""#, ';'),
            vec!["a", "b;c", r#"say "hi""#]
        );
    }

    #[test]
    fn the_separator_is_the_one_the_header_uses_most() {
        assert_eq!(separator_of("Vorname;E-Mail;Telefon"), ';');
        assert_eq!(separator_of("first_name,email"), ',');
    }
}
