//! Feature flags: on, off, on for listed tenants, or on for a stable percentage of tenants.

use std::collections::HashMap;

use serde::Deserialize;

/// The flags of a settings document (`"flags": {"name": rule, ...}`). A flag that is not listed
/// is off.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flags(HashMap<String, Flag>);

impl<'de> Deserialize<'de> for Flags {
    /// Each flag is `true`/`false` or a [`FlagRule`]; an error names the flag.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = HashMap::<String, serde_json::Value>::deserialize(d)?;
        let mut flags = HashMap::with_capacity(raw.len());
        for (name, value) in raw {
            let flag = match value {
                serde_json::Value::Bool(on) => Flag::Switch(on),
                other => Flag::Rule(
                    serde_json::from_value(other)
                        .map_err(|e| serde::de::Error::custom(format!("flag {name:?}: {e}")))?,
                ),
            };
            flags.insert(name, flag);
        }
        Ok(Flags(flags))
    }
}

/// One flag: `true`/`false`, or a rule
/// `{"enabled": bool, "tenants": ["acme"], "percentage": 0..=100}` (any of the three; a tenant
/// gets the flag when `enabled`, when listed, or when its bucket falls under `percentage`).
#[derive(Clone, Debug, PartialEq)]
pub enum Flag {
    /// On or off for everyone.
    Switch(bool),
    /// Per-tenant rule.
    Rule(FlagRule),
}

/// A per-tenant rule. See [`Flag`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagRule {
    /// On for everyone.
    #[serde(default)]
    pub enabled: bool,
    /// Tenants the flag is on for.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Share of tenants (0 to 100, two decimals kept) the flag is on for, picked by a stable
    /// hash of the flag's name and the tenant id: the same tenants on every process and every
    /// poll, and raising the percentage only adds tenants.
    #[serde(default)]
    pub percentage: f64,
}

impl Flags {
    /// Whether flag `name` is on for `tenant` (`None`: an invocation with no tenant, which only
    /// an `enabled` flag covers).
    pub fn is_on(&self, name: &str, tenant: Option<&str>) -> bool {
        match self.0.get(name) {
            None => false,
            Some(Flag::Switch(on)) => *on,
            Some(Flag::Rule(rule)) => rule.is_on(name, tenant),
        }
    }

    /// The flags' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Checks every rule: a percentage outside 0..=100 is refused.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, flag) in &self.0 {
            if let Flag::Rule(r) = flag {
                if !(0.0..=100.0).contains(&r.percentage) {
                    return Err(format!(
                        "flag {name:?}: percentage {} is not within 0..=100",
                        r.percentage
                    ));
                }
            }
        }
        Ok(())
    }
}

impl FlagRule {
    fn is_on(&self, name: &str, tenant: Option<&str>) -> bool {
        if self.enabled {
            return true;
        }
        let Some(tenant) = tenant else { return false };
        if self.tenants.iter().any(|t| t == tenant) {
            return true;
        }
        self.percentage > 0.0 && f64::from(bucket(name, tenant)) < self.percentage * 100.0
    }
}

/// The tenant's bucket for a flag, 0..10_000: FNV-1a (64 bit) of the flag name, a separator and
/// the tenant id. Fixed by this definition, so it never changes between releases or processes
/// (unlike `std`'s `DefaultHasher`).
pub fn bucket(flag: &str, tenant: &str) -> u32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in flag.bytes().chain(std::iter::once(0xff)).chain(tenant.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    (h % 10_000) as u32
}
