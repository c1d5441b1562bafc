//! SSM SecureString parameters against the emulator.

use aws_sdk_ssm::types::ParameterType;
use mumble_core::secrets::{Secret, SecretSource, SsmSecrets};

#[tokio::test]
async fn a_secure_string_is_read_decrypted_and_cached() {
    let sdk = mumble_testing::sdk_config();
    let ssm = mumble_core::aws::ssm_client(&sdk);
    let name = format!(
        "/mumble/{}/openweather-api-key",
        mumble_testing::unique_name("t")
    );
    ssm.put_parameter()
        .name(&name)
        .value("ow-123")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();

    let secrets = SsmSecrets::new(ssm.clone());
    assert_eq!(secrets.get(&name).await.unwrap().expose(), "ow-123");

    // Read once per cold start: a later change is not seen by this process.
    ssm.delete_parameter().name(&name).send().await.unwrap();
    assert_eq!(secrets.get(&name).await.unwrap().expose(), "ow-123");
}

#[tokio::test]
async fn a_missing_parameter_is_an_error_naming_it() {
    let sdk = mumble_testing::sdk_config();
    let secrets = SsmSecrets::new(mumble_core::aws::ssm_client(&sdk));
    let name = format!("/mumble/{}/absent", mumble_testing::unique_name("t"));
    let err = secrets.get(&name).await.unwrap_err();
    assert!(err.to_string().contains(&name), "{err}");
}

#[test]
fn secrets_never_print_their_value() {
    let secret = Secret::new("sk-very-secret");
    assert!(!format!("{secret:?} {secret}").contains("very-secret"));
}

#[tokio::test]
async fn several_secrets_are_read_together_and_a_missing_one_is_named() {
    let sdk = mumble_testing::sdk_config();
    let ssm = mumble_core::aws::ssm_client(&sdk);
    let prefix = format!("/mumble/{}", mumble_testing::unique_name("t"));
    let (openai, weather, absent) = (
        format!("{prefix}/openai-api-key"),
        format!("{prefix}/openweather-api-key"),
        format!("{prefix}/absent"),
    );
    for (name, value) in [(&openai, "sk-1"), (&weather, "ow-2")] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }

    let secrets = SsmSecrets::new(ssm.clone());
    let values = secrets
        .get_all(&[weather.clone(), openai.clone()])
        .await
        .unwrap();
    let values: Vec<&str> = values.iter().map(Secret::expose).collect();
    assert_eq!(values, ["ow-2", "sk-1"], "in the order asked for");

    let err = SsmSecrets::new(ssm)
        .get_all(&[openai, absent.clone()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&absent), "{err}");
}
