//! `#[implements]`: a trait impl becomes the linked implementation of an interface.
//!
//! The impl is kept unchanged (rustc checks it against the trait and reports a wrong
//! signature at the implementation's item); beside it the macro invokes the export macro
//! that `#[interface]` generated next to the trait, which defines one exported shim per
//! function.

use crate::errors::{Errors, no_args};
use crate::symbol;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Item, ItemImpl, Path, PathArguments};

/// The hint given whenever the trait path does not let the macro find the export macro.
const FULL_PATH_HINT: &str = "name the interface by its full path, e.g. \
     `impl petrel::clock::Clock for ...`, so the macro can find the interface's export macro";

/// The attribute's entry point.
pub(crate) fn expand_attr(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Impl(item)) => item,
        Ok(other) => return crate::errors::fallback(input, &not_an_impl(&other)),
        Err(error) => return crate::errors::fallback(input, &error),
    };
    match no_args(args, "implements").and_then(|()| parse(item.clone())) {
        Ok(implementation) => expand(&implementation),
        Err(error) => crate::errors::fallback(sanitize(item), &error),
    }
}

/// The impl for the fallback expansion: as written, minus what rustc would reject on its own
/// after our error already did, so that each problem is reported once. A negative impl has
/// no items anything could depend on: it is dropped.
fn sanitize(mut item: ItemImpl) -> TokenStream {
    if item.modifiers.polarity.is_some() {
        return TokenStream::new();
    }
    item.unsafety = None;
    if let Some((path, _)) = &mut item.trait_ {
        for segment in &mut path.segments {
            segment.arguments = PathArguments::None;
        }
    }
    item.into_token_stream()
}

/// A validated implementation.
struct Implementation {
    /// The impl, emitted unchanged.
    item: ItemImpl,
    /// The interface trait's path as the implementer wrote it.
    trait_path: Path,
}

/// The error for an item that is not an impl.
fn not_an_impl(item: &Item) -> syn::Error {
    syn::Error::new_spanned(
        crate::errors::item_head(item),
        "`#[implements]` applies to a trait impl, e.g. `impl petrel::clock::Clock for MyClock { ... }`",
    )
}

/// Validates the impl.
fn parse(item: ItemImpl) -> syn::Result<Implementation> {
    let mut errors = Errors::default();
    if let Some(unsafety) = &item.unsafety {
        errors.spanned(
            unsafety,
            "an interface implementation cannot be an `unsafe impl`",
        );
    }
    if let Some(polarity) = &item.modifiers.polarity {
        errors.spanned(
            polarity,
            "an interface implementation cannot be a negative impl",
        );
    }
    if let Some(default) = &item.modifiers.defaultness {
        errors.spanned(
            default,
            "an interface implementation cannot be a `default impl`",
        );
    }
    if !item.generics.params.is_empty() {
        errors.spanned(
            &item.generics,
            "an interface implementation cannot be generic: it defines one linker symbol per function",
        );
    }
    if let Some(where_clause) = &item.generics.where_clause {
        errors.spanned(
            where_clause,
            "an interface implementation cannot have a `where` clause",
        );
    }
    let trait_path = match &item.trait_ {
        None => {
            let (impl_token, self_ty) = (&item.impl_token, &item.self_ty);
            errors.spanned(
                quote!(#impl_token #self_ty),
                "`#[implements]` applies to a trait impl, not an inherent impl: write `impl petrel::<interface>::<Trait> for Type`",
            );
            None
        }
        Some((path, _)) => check_trait_path(path, &mut errors),
    };
    errors.finish()?;
    match trait_path {
        Some(trait_path) => Ok(Implementation { item, trait_path }),
        // Unreachable in practice: every `None` above recorded an error.
        None => Err(syn::Error::new_spanned(item.impl_token, FULL_PATH_HINT)),
    }
}

/// The trait path must lead to the interface crate, where the export macro lives.
fn check_trait_path(path: &Path, errors: &mut Errors) -> Option<Path> {
    let mut ok = true;
    if path.segments.len() < 2 {
        errors.spanned(
            path,
            format!("the interface trait is not named by its crate; {FULL_PATH_HINT}"),
        );
        ok = false;
    } else if let Some(first) = path.segments.first()
        && path.leading_colon.is_none()
        && ["crate", "self", "super"].iter().any(|k| first.ident == k)
    {
        errors.spanned(
            &first.ident,
            format!(
                "an interface is implemented in another crate than the one that declares it; {FULL_PATH_HINT}"
            ),
        );
        ok = false;
    }
    for segment in &path.segments {
        if !matches!(segment.arguments, PathArguments::None) {
            errors.spanned(&segment.arguments, "an interface has no generic parameters");
            ok = false;
        }
    }
    ok.then(|| path.clone())
}

/// The impl, and the export macro's invocation.
fn expand(implementation: &Implementation) -> TokenStream {
    let Implementation { item, trait_path } = implementation;
    let mut export_path = trait_path.clone();
    if let Some(last) = export_path.segments.last_mut() {
        last.ident = symbol::export_macro(&last.ident);
    }
    let self_ty = &item.self_ty;
    quote! {
        #item
        #export_path!(#self_ty, #trait_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invokes_the_export_macro_beside_the_trait() {
        let out = expand_attr(
            TokenStream::new(),
            quote! { impl petrel::clock::Clock for UnixClock { fn wall_ns() -> u64 { 0 } } },
        )
        .to_string();
        assert!(
            out.ends_with(
                "petrel :: clock :: __petrel_export_Clock ! (UnixClock , petrel :: clock :: Clock) ;"
            ),
            "{out}"
        );
    }

    #[test]
    fn leading_colons_are_kept() {
        let out = expand_attr(
            TokenStream::new(),
            quote! { impl ::petrel_clock::Clock for UnixClock {} },
        )
        .to_string();
        assert!(
            out.contains(
                ":: petrel_clock :: __petrel_export_Clock ! (UnixClock , :: petrel_clock :: Clock)"
            ),
            "{out}"
        );
    }
}
