//! DNS-1123 name checks with the messages of Kubernetes' apimachinery validation, which Stork's storkctl
//! prints verbatim (Go's `%v` of the list of problems, hence the brackets).

use thiserror::Error;

const LABEL_MAX: usize = 63;
const SUBDOMAIN_MAX: usize = 253;

// Both messages come from apimachinery's RegexError, whose example list is joined with "', " + " or ":
// that is where the double space in the label message comes from.
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and \
                         must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used \
                         for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or \
                             '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex \
                             used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ValidationError {
    #[error("the Name \"{name}\" is not valid: [{}]", .problems.join(" "))]
    Name { name: String, problems: Vec<String> },
    #[error("the Namespace \"{name}\" is not valid: [{}]", .problems.join(" "))]
    Namespace { name: String, problems: Vec<String> },
}

/// A ClusterPair name must be a DNS-1123 subdomain, as for any namespaced custom resource.
pub fn check_name(name: &str) -> Result<(), ValidationError> {
    let problems = subdomain_problems(name);
    if problems.is_empty() { Ok(()) } else { Err(ValidationError::Name { name: name.to_string(), problems }) }
}

/// A namespace name must be a DNS-1123 label.
pub fn check_namespace(name: &str) -> Result<(), ValidationError> {
    let problems = label_problems(name);
    if problems.is_empty() { Ok(()) } else { Err(ValidationError::Namespace { name: name.to_string(), problems }) }
}

/// apimachinery reports the length problem first, then the shape problem.
fn label_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > LABEL_MAX {
        problems.push(max_len(LABEL_MAX));
    }
    if !is_label_shaped(value) {
        problems.push(LABEL_MSG.to_string());
    }
    problems
}

fn subdomain_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > SUBDOMAIN_MAX {
        problems.push(max_len(SUBDOMAIN_MAX));
    }
    if !value.split('.').all(is_label_shaped) {
        problems.push(SUBDOMAIN_MSG.to_string());
    }
    problems
}

fn max_len(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit (the subdomain regex applies it per part).
fn is_label_shaped(part: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = part.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => alnum(first) && alnum(last) && bytes.iter().all(|&b| alnum(b) || b == b'-'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains() {
        for ok in ["a", "pair1", "uni-pair1", "example.com", "a.b-c.d", "0"] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "pair_test", "Pair", "-a", "a-", "a..b", ".a", "a.", "a.-b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(253)).is_ok());
    }

    #[test]
    fn labels() {
        for ok in ["a", "test", "test1", "kube-system", "123-abc"] {
            assert_eq!(check_namespace(ok), Ok(()), "{ok}");
        }
        for bad in ["", "test_namespace", "a.b", "A", "-a", "a-"] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
        assert!(check_namespace(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn messages_are_apimachinery_verbatim() {
        assert_eq!(
            check_name("pair_test").unwrap_err().to_string(),
            "the Name \"pair_test\" is not valid: [a lowercase RFC 1123 subdomain must consist of lower case \
             alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. \
             'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')]"
        );
        assert_eq!(
            check_namespace("test_namespace").unwrap_err().to_string(),
            "the Namespace \"test_namespace\" is not valid: [a lowercase RFC 1123 label must consist of lower case \
             alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  \
             or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')]"
        );
    }

    #[test]
    fn too_long_reports_length_then_shape() {
        let long_label = "a".repeat(64);
        assert_eq!(
            check_namespace(&long_label).unwrap_err().to_string(),
            format!("the Namespace \"{long_label}\" is not valid: [must be no more than 63 characters]")
        );
        let long_bad = format!("{}_", "a".repeat(253));
        let msg = check_name(&long_bad).unwrap_err().to_string();
        assert!(msg.contains(": [must be no more than 253 characters a lowercase RFC 1123 subdomain"), "{msg}");
    }
}
