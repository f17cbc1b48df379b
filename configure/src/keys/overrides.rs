//! The keys given on the command line: `--key NAME=VALUE`, the aliases (`--net=`...) and
//! the keys remembered from the last configure.

use std::collections::BTreeMap;

/// The keys given on the command line, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyOverrides {
    pub(super) values: BTreeMap<String, Typed>,
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

    /// `--key NAME=VALUE`; `Err` with a one-line reason when it is not `NAME=VALUE` or the
    /// key was already given another value.
    pub fn key_flag(&mut self, arg: &str) -> Result<(), String> {
        match arg.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                self.insert(name, value, format!("--key={name}={value}"), false)
            }
            _ => Err(format!(
                "invalid `--key {arg}`: expected NAME=VALUE, e.g. `--key net=direct`"
            )),
        }
    }

    /// Key `name` remembered from the last configure's command line.
    pub fn replay(&mut self, name: &str, value: &str) {
        // Replayed keys come from a map: each name once, so this cannot conflict.
        let _ = self.insert(name, value, format!("--key={name}={value}"), true);
    }

    fn insert(
        &mut self,
        name: &str,
        value: &str,
        written: String,
        replayed: bool,
    ) -> Result<(), String> {
        if let Some(first) = self.values.get(name)
            && first.value != value
        {
            return Err(format!(
                "the key `{name}` is given twice on the command line: `{}` and `{written}`",
                first.written
            ));
        }
        self.values.insert(
            name.to_string(),
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
        self.values.is_empty()
    }

    /// The value given for key `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|t| t.value.as_str())
    }
}
