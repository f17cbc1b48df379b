//! The keys given on the command line: `--key NAME=VALUE`, `--key INSTANCE.NAME=VALUE` (one
//! device instance's key), the aliases (`--net=`...) and the keys remembered from the last
//! configure.

use std::collections::BTreeMap;

/// The keys given on the command line, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOverrides {
    /// Keys for every instance, by key name.
    pub(super) values: BTreeMap<String, Typed>,
    /// Keys for one instance (`storage.kv=direct`), by instance then key name.
    pub(super) instances: BTreeMap<String, BTreeMap<String, Typed>>,
}

/// One key typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Typed {
    /// The value.
    pub(super) value: String,
    /// How it was written, ending with the value (`--net=socket`, `--key=tls=none`), for
    /// diagnostics and the suggestions they make.
    pub(super) written: String,
    /// Replayed from the last configure: a key that no longer exists is dropped, not an
    /// error (the user did not type it today).
    pub(super) replayed: bool,
}

impl KeyOverrides {
    /// No key given.
    pub fn new() -> KeyOverrides {
        KeyOverrides::default()
    }

    /// Key `name` given by its own flag (`--net=socket`; `--dhcp` is `dhcp` = `true`);
    /// `Err` when the command line already gave it another value.
    pub fn alias(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.insert(name, value, format!("--{name}={value}"), false)
    }

    /// `--key NAME=VALUE` or `--key INSTANCE.NAME=VALUE`; `Err` with a one-line reason when
    /// it is not of that shape or the key was already given another value.
    pub fn key_flag(&mut self, arg: &str) -> Result<(), String> {
        let invalid = || {
            format!(
                "invalid `--key {arg}`: expected NAME=VALUE or INSTANCE.NAME=VALUE, e.g. `--key net=direct` or `--key storage.kv=direct`"
            )
        };
        let Some((name, value)) = arg.split_once('=') else {
            return Err(invalid());
        };
        match name.split_once('.') {
            _ if name.is_empty() => Err(invalid()),
            Some((instance, key)) if instance.is_empty() || key.is_empty() => Err(invalid()),
            _ => self.insert(name, value, format!("--key={name}={value}"), false),
        }
    }

    /// Key `name` (`kv`, or `storage.kv` for one instance) remembered from the last
    /// configure's command line.
    pub fn replay(&mut self, name: &str, value: &str) {
        // Replayed keys come from a map: each name once, so this cannot conflict.
        let _ = self.insert(name, value, format!("--key={name}={value}"), true);
    }

    /// Every key given for one instance: instance, key name, value and how it was typed.
    pub(super) fn instance_keys(&self) -> impl Iterator<Item = (&str, &str, &Typed)> {
        self.instances.iter().flat_map(|(instance, keys)| {
            keys.iter()
                .map(move |(name, typed)| (instance.as_str(), name.as_str(), typed))
        })
    }

    fn insert(
        &mut self,
        name: &str,
        value: &str,
        written: String,
        replayed: bool,
    ) -> Result<(), String> {
        let (map, key) = match name.split_once('.') {
            Some((instance, key)) => (self.instances.entry(instance.to_string()).or_default(), key),
            None => (&mut self.values, name),
        };
        if let Some(first) = map.get(key)
            && first.value != value
        {
            return Err(format!(
                "the key `{name}` is given twice on the command line: `{}` and `{written}`",
                first.written
            ));
        }
        map.insert(
            key.to_string(),
            Typed {
                value: value.to_string(),
                written,
                replayed,
            },
        );
        Ok(())
    }

    /// True when no key was given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.instances.is_empty()
    }

    /// The value given for key `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|t| t.value.as_str())
    }
}
