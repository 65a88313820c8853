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
    /// Kept so that more serving certificates can be issued later (the fault proxy's): clients of this
    /// cluster already trust this CA, so a proxy holding such a certificate is believed to be the cluster.
    serving_issuer: Issuer<'static, KeyPair>,
    pub client_ca_pem: String,
    client_issuer: Issuer<'static, KeyPair>,
    pub admin_cert_pem: String,
    pub admin_key_pem: String,
    pub sa_key_pem: String,
    pub sa_pub_pem: String,
}

/// A PEM certificate and its private key.
pub struct CertAndKey {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pki {
    pub fn generate(cluster: &str) -> anyhow::Result<Self> {
        let (serving_ca_pem, serving_issuer) = new_ca(&format!("{cluster}-serving-ca"))?;
        let (client_ca_pem, client_issuer) = new_ca(&format!("{cluster}-client-ca"))?;
        let sa_key = KeyPair::generate()?;
        let mut pki = Self {
            serving_ca_pem,
            serving_cert_pem: String::new(),
            serving_key_pem: String::new(),
            serving_issuer,
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
        let serving = pki.serving_cert("kube-apiserver")?;
        pki.serving_cert_pem = serving.cert_pem;
        pki.serving_key_pem = serving.key_pem;
        Ok(pki)
    }

    /// A serving certificate for 127.0.0.1 and localhost signed by this cluster's serving CA.
    pub(crate) fn serving_cert(&self, common_name: &str) -> anyhow::Result<CertAndKey> {
        let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
        params.key_usages.push(KeyUsagePurpose::DigitalSignature);
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.serving_issuer)?;
        Ok(CertAndKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// A client certificate for `user` in `groups`, trusted by this cluster only.
    pub fn client_cert(&self, user: &str, groups: &[&str]) -> anyhow::Result<CertAndKey> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params.distinguished_name.push(DnType::OrganizationName, *group);
        }
        params.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth);
        params.key_usages.push(KeyUsagePurpose::DigitalSignature);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.client_issuer)?;
        Ok(CertAndKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
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
