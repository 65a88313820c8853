//! Certificates for one cluster: a serving CA and certificate, a client CA with an admin certificate,
//! and the service-account signing key.

use std::path::Path;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

pub struct Pki {
    pub serving_ca_pem: String,
    pub serving_cert_pem: String,
    pub serving_key_pem: String,
    pub client_ca_pem: String,
    client_issuer: Issuer<'static, KeyPair>,
    pub admin_cert_pem: String,
    pub admin_key_pem: String,
    pub sa_key_pem: String,
    pub sa_pub_pem: String,
}

/// A PEM certificate and its private key.
pub struct ClientCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pki {
    pub fn generate(cluster: &str) -> anyhow::Result<Self> {
        let (serving_ca_pem, serving_issuer) = new_ca(&format!("{cluster}-serving-ca"))?;
        let mut serving = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
        serving.distinguished_name.push(DnType::CommonName, "kube-apiserver");
        serving.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
        serving.key_usages.push(KeyUsagePurpose::DigitalSignature);
        serving.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        let serving_key = KeyPair::generate()?;
        let serving_cert = serving.signed_by(&serving_key, &serving_issuer)?;

        let (client_ca_pem, client_issuer) = new_ca(&format!("{cluster}-client-ca"))?;
        let sa_key = KeyPair::generate()?;
        let mut pki = Self {
            serving_ca_pem,
            serving_cert_pem: serving_cert.pem(),
            serving_key_pem: serving_key.serialize_pem(),
            client_ca_pem,
            client_issuer,
            admin_cert_pem: String::new(),
            admin_key_pem: String::new(),
            sa_key_pem: sa_key.serialize_pem(),
            sa_pub_pem: sa_key.public_key_pem(),
        };
        let admin = pki.client_cert("admin", &["system:masters"])?;
        pki.admin_cert_pem = admin.cert_pem;
        pki.admin_key_pem = admin.key_pem;
        Ok(pki)
    }

    /// A client certificate for `user` in `groups`, trusted by this cluster only.
    pub fn client_cert(&self, user: &str, groups: &[&str]) -> anyhow::Result<ClientCert> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params.distinguished_name.push(DnType::OrganizationName, *group);
        }
        params.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth);
        params.key_usages.push(KeyUsagePurpose::DigitalSignature);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.client_issuer)?;
        Ok(ClientCert { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// Writes the files the API server and controller manager read.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, content) in [
            ("serving-ca.crt", &self.serving_ca_pem),
            ("serving.crt", &self.serving_cert_pem),
            ("serving.key", &self.serving_key_pem),
            ("client-ca.crt", &self.client_ca_pem),
            ("sa.key", &self.sa_key_pem),
            ("sa.pub", &self.sa_pub_pem),
        ] {
            std::fs::write(dir.join(name), content).with_context(|| format!("write {name}"))?;
        }
        Ok(())
    }
}

fn new_ca(name: &str) -> anyhow::Result<(String, Issuer<'static, KeyPair>)> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages.extend([
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ]);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}
