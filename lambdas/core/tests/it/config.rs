//! Configuration errors name the variable to fix.

use mumble_core::{ConfigError, Env};

#[test]
fn a_missing_variable_is_an_error_naming_it() {
    let err = Env::require("MUMBLE_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
    assert!(matches!(err, ConfigError::Missing { .. }));
    assert!(
        err.to_string()
            .contains("MUMBLE_TEST_SURELY_UNSET_VARIABLE"),
        "{err}"
    );
}

#[test]
fn unset_optional_values_take_their_default() {
    assert_eq!(
        Env::parse_or("MUMBLE_TEST_SURELY_UNSET_VARIABLE", 42u64).unwrap(),
        42
    );
    assert_eq!(Env::or("MUMBLE_TEST_SURELY_UNSET_VARIABLE", "x"), "x");
    assert!(Env::list("MUMBLE_TEST_SURELY_UNSET_VARIABLE").is_empty());
}

#[test]
fn a_required_number_that_is_unset_names_the_variable() {
    let err = Env::parse::<u64>("MUMBLE_TEST_SURELY_UNSET_NUMBER").unwrap_err();
    assert!(
        err.to_string().contains("MUMBLE_TEST_SURELY_UNSET_NUMBER"),
        "{err}"
    );
}
