//! Names shared by `#[interface]` and `#[implements]`.
//!
//! The two macros run in different crates and never see each other's input, so every name
//! one of them generates for the other to find is built here, in one place.

use proc_macro2::Ident;
use syn::ext::IdentExt as _;

/// Version of the symbol scheme. Bump it when the calling convention of the shims changes,
/// so that an interface and an implementation built with incompatible macros fail to link
/// instead of calling each other wrongly.
const VERSION: &str = "v1";

/// The linker symbol that carries method `method` of interface `trait_`:
/// `__petrel_v1_<Trait>_<method>`.
///
/// Raw identifiers (`r#type`) are unraw'ed: a symbol name has no keywords.
pub(crate) fn symbol(trait_: &Ident, method: &Ident) -> String {
    symbol_name(&trait_.unraw().to_string(), &method.unraw().to_string())
}

/// [`symbol`] on plain strings.
pub(crate) fn symbol_name(trait_: &str, method: &str) -> String {
    format!("__petrel_{VERSION}_{trait_}_{method}")
}

/// The `#[macro_export]` macro that `#[interface]` generates beside trait `trait_` and that
/// `#[implements]` invokes: `__petrel_export_<Trait>`.
pub(crate) fn export_macro(trait_: &Ident) -> Ident {
    Ident::new(
        &export_macro_name(&trait_.unraw().to_string()),
        trait_.span(),
    )
}

/// [`export_macro`] on a plain string.
pub(crate) fn export_macro_name(trait_: &str) -> String {
    format!("__petrel_export_{trait_}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn symbol_is_versioned_and_keeps_case() {
        assert_eq!(symbol_name("Clock", "wall_ns"), "__petrel_v1_Clock_wall_ns");
    }

    #[test]
    fn symbol_unraws_identifiers() {
        let t = Ident::new("Net", Span::call_site());
        let m = Ident::new_raw("type", Span::call_site());
        assert_eq!(symbol(&t, &m), "__petrel_v1_Net_type");
    }

    #[test]
    fn export_macro_name_follows_the_trait() {
        let t = Ident::new("Clock", Span::call_site());
        assert_eq!(export_macro(&t).to_string(), "__petrel_export_Clock");
        assert_eq!(export_macro_name("Time"), "__petrel_export_Time");
    }
}
