//! The site's TLS certificate, in us-east-1 because CloudFront only uses certificates from there.

use mumble_contract::Output;

use super::output;
use crate::cfn::{Expr, Template};
use crate::resources::acm::{Certificate, DomainValidationOption};
use crate::settings::Stage;

pub const REGION: &str = "us-east-1";

/// `None` when the stage has no domain: the site then uses CloudFront's own name and certificate.
pub fn template(stage: &Stage) -> Option<Template> {
    let domain = stage.domain.as_ref()?;
    let mut t = Template::new(format!(
        "Mumble {}: certificate for {}",
        stage.name, domain.name
    ));
    // Without a hosted zone CloudFormation waits until the validation record is added by hand;
    // the record to add is shown in the stack's events.
    let validation = domain
        .hosted_zone_id
        .iter()
        .map(|zone| DomainValidationOption {
            domain_name: domain.name.clone(),
            hosted_zone_id: Expr::lit(zone.as_str()),
        })
        .collect();
    let certificate = t.add(
        "Certificate",
        Certificate {
            domain_name: domain.name.clone(),
            validation_method: "DNS",
            domain_validation_options: validation,
        },
    );
    output(
        &mut t,
        stage,
        Output::CertificateArn,
        Expr::r#ref(certificate),
    );
    Some(t)
}
