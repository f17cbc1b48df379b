//! `#[interface]`: a trait of associated functions becomes a link-time interface.
//!
//! Pipeline: [`parse`] the trait into an [`Interface`] (validating as it goes, every problem
//! a spanned error), then [`expand`] it. On error, [`crate::errors::fallback`] keeps the trait
//! unchanged beside the errors.

use crate::errors::{Errors, no_args};
use crate::symbol;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens as _, format_ident, quote};
use syn::visit::Visit;
use syn::{
    Attribute, FnArg, Item, ItemTrait, Pat, ReturnType, Safety, Signature, TraitItem, Type,
    Visibility,
};

/// The attribute's entry point.
pub(crate) fn expand_attr(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Trait(item)) => item,
        Ok(other) => return crate::errors::fallback(input, &not_a_trait(&other)),
        Err(error) => return crate::errors::fallback(input, &error),
    };
    match no_args(args, "interface").and_then(|()| parse(item.clone())) {
        Ok(interface) => expand(&interface),
        Err(error) => crate::errors::fallback(sanitize(item).into_token_stream(), &error),
    }
}

/// A validated interface.
struct Interface {
    /// The trait, emitted unchanged.
    item: ItemTrait,
    /// The functions, in declaration order.
    methods: Vec<Method>,
}

/// One function of an interface.
struct Method {
    /// `#[doc]` attributes, copied to the generated free function.
    docs: Vec<Attribute>,
    ident: Ident,
    /// Parameters: the name the free function uses (the interface's, or a generated one for
    /// `_`) and the type.
    params: Vec<(Ident, Type)>,
    output: ReturnType,
}

/// The error for an item that is not a trait.
fn not_a_trait(item: &Item) -> syn::Error {
    syn::Error::new_spanned(
        crate::errors::item_head(item),
        "`#[interface]` applies to a trait, e.g. `pub trait Clock { fn wall_ns() -> u64; }`",
    )
}

/// The trait for the fallback expansion: as written, minus what rustc would reject on its
/// own after our error already did (`const fn`, `safe fn`, C-variadic parameters, patterns
/// in a function without body), so that each problem is reported once.
fn sanitize(mut item: ItemTrait) -> ItemTrait {
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            f.sig.constness = None;
            f.sig.variadic = None;
            if matches!(f.sig.safety, Safety::Safe(_)) {
                f.sig.safety = Safety::Default;
            }
            for input in &mut f.sig.inputs {
                if let FnArg::Typed(pat_type) = input
                    && !matches!(&*pat_type.pat, Pat::Ident(_) | Pat::Wild(_))
                {
                    *pat_type.pat = Pat::Wild(syn::PatWild {
                        attrs: Vec::new(),
                        underscore_token: Default::default(),
                    });
                }
            }
        }
    }
    item
}

/// Validates the trait.
fn parse(item: ItemTrait) -> syn::Result<Interface> {
    let mut errors = Errors::default();
    check_trait_header(&item, &mut errors);
    let mut methods = Vec::new();
    for trait_item in &item.items {
        match trait_item {
            TraitItem::Fn(f) => {
                if let Some(method) = parse_method(&f.attrs, &f.sig, &mut errors) {
                    methods.push(method);
                }
                if let Some(body) = &f.default {
                    errors.spanned(
                        body,
                        "an interface function cannot have a default body: every implementation provides it",
                    );
                }
            }
            TraitItem::Const(c) => errors.spanned(
                c,
                "an interface contains only functions; replace the constant with a function",
            ),
            TraitItem::Type(t) => errors.spanned(
                t,
                "an interface contains only functions; associated types are not supported",
            ),
            TraitItem::Macro(m) => errors.spanned(
                m,
                "an interface contains only functions; macros are not expanded here",
            ),
            other => errors.spanned(other, "an interface contains only functions"),
        }
    }
    errors.finish()?;
    Ok(Interface { item, methods })
}

/// Trait-level rules: no generics, no supertraits, no `unsafe`/`auto`.
fn check_trait_header(item: &ItemTrait, errors: &mut Errors) {
    if let Some(auto) = &item.modifiers.auto_token {
        errors.spanned(auto, "an interface cannot be an auto trait");
    }
    if let Some(unsafety) = &item.unsafety {
        errors.spanned(
            unsafety,
            "an interface cannot be an `unsafe trait`: implementing an interface is safe",
        );
    }
    if !item.generics.params.is_empty() {
        errors.spanned(
            &item.generics,
            "an interface cannot have generic parameters: each function is one linker symbol",
        );
    }
    if let Some(where_clause) = &item.generics.where_clause {
        errors.spanned(where_clause, "an interface cannot have a `where` clause");
    }
    if item.colon_token.is_some() {
        let (colon, bounds) = (&item.colon_token, &item.supertraits);
        errors.spanned(
            quote!(#colon #bounds),
            "an interface cannot have supertraits: implementations are selected one interface at a time",
        );
    }
}

/// Function-level rules. Returns the method if its signature is usable for expansion (even
/// if other errors were recorded).
fn parse_method(attrs: &[Attribute], sig: &Signature, errors: &mut Errors) -> Option<Method> {
    let name = &sig.ident;
    if let Some(constness) = &sig.constness {
        errors.spanned(
            constness,
            "an interface function cannot be `const`: it is resolved at link time",
        );
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.spanned(
            asyncness,
            format!(
                "an interface function cannot be `async`; declare a poll-style function instead, \
                 e.g. `fn poll_{name}(cx: &mut ::core::task::Context<'_>) -> ::core::task::Poll<...>`"
            ),
        );
    }
    match &sig.safety {
        Safety::Unsafe(token) => errors.spanned(token, "an interface function cannot be `unsafe`"),
        Safety::Safe(token) => errors.spanned(token, "an interface function cannot be `safe`"),
        _ => {}
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            "an interface function cannot declare an ABI: the macro links it with the Rust ABI",
        );
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "an interface function cannot have generic parameters: it is one linker symbol",
        );
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.spanned(
            where_clause,
            "an interface function cannot have a `where` clause",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "an interface function cannot be variadic");
    }
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                "an interface function has no receiver: remove `self`, callers write `petrel::<interface>::function(...)`",
            ),
            FnArg::Typed(pat_type) => {
                check_type(&pat_type.ty, errors);
                match &*pat_type.pat {
                    Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                        params.push((p.ident.clone(), (*pat_type.ty).clone()));
                    }
                    Pat::Wild(_) => params.push((
                        format_ident!("__petrel_arg{}", index),
                        (*pat_type.ty).clone(),
                    )),
                    other => errors.spanned(
                        other,
                        "an interface parameter must be a plain name, as in `buf: &mut [u8]`",
                    ),
                }
            }
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        check_type(ty, errors);
    }
    Some(Method {
        docs: attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect(),
        ident: sig.ident.clone(),
        params,
        output: sig.output.clone(),
    })
}

/// Rejects `Self` and `impl Trait` anywhere inside a parameter or return type.
fn check_type(ty: &Type, errors: &mut Errors) {
    struct Checker<'a> {
        errors: &'a mut Errors,
    }
    impl<'ast> Visit<'ast> for Checker<'_> {
        fn visit_ident(&mut self, ident: &'ast Ident) {
            if ident == "Self" {
                self.errors.spanned(
                    ident,
                    "an interface signature cannot mention `Self`: callers do not know the implementing type",
                );
            }
        }
        fn visit_type_impl_trait(&mut self, ty: &'ast syn::TypeImplTrait) {
            self.errors.spanned(
                ty,
                "an interface signature cannot use `impl Trait`: each function is one linker symbol with concrete types",
            );
        }
    }
    Checker { errors }.visit_type(ty);
}

/// The trait, plus per function an extern declaration and a free function, plus the export
/// macro that `#[implements]` invokes.
fn expand(interface: &Interface) -> TokenStream {
    let item = &interface.item;
    let trait_ident = &item.ident;
    let vis = &item.vis;
    let export_macro = symbol::export_macro(trait_ident);
    let mut free_fns = TokenStream::new();
    let mut shims = TokenStream::new();
    for method in &interface.methods {
        free_fns.extend(expand_free_fn(trait_ident, vis, method));
        shims.extend(expand_shim(trait_ident, method));
    }
    let macro_doc = format!(
        " Exports an implementation of [`{trait_ident}`]: `#[petrel::implements]` invokes this \
         macro with the implementing type and the trait path. Not a public API."
    );
    quote! {
        #item

        #free_fns

        #[doc = #macro_doc]
        #[doc(hidden)]
        #[macro_export]
        macro_rules! #export_macro {
            ($ty:ty, $($tr:tt)+) => {
                const _: () = {
                    // Named outside the inner block, so that the glob import below cannot
                    // shadow the implementer's names.
                    type __PetrelImpl = $ty;
                    use $($tr)+ as __PetrelTrait;
                    const _: () = {
                        // The signature types are written as in the interface crate: resolve
                        // them there first (then in the implementer's scope).
                        #[allow(unused_imports)]
                        use $crate::*;
                        #shims
                    };
                };
            };
        }
    }
}

/// The extern declaration of the symbol and the public function that calls it.
fn expand_free_fn(trait_ident: &Ident, vis: &Visibility, method: &Method) -> TokenStream {
    let Method {
        docs,
        ident,
        params,
        output,
    } = method;
    let symbol = symbol::symbol(trait_ident, ident);
    let private = Ident::new(&symbol, Span::mixed_site());
    let names: Vec<&Ident> = params.iter().map(|(name, _)| name).collect();
    let types: Vec<&Type> = params.iter().map(|(_, ty)| ty).collect();
    quote! {
        unsafe extern "Rust" {
            #[link_name = #symbol]
            #[allow(non_snake_case)]
            fn #private(#(#names: #types),*) #output;
        }

        #(#docs)*
        #[inline]
        #vis fn #ident(#(#names: #types),*) #output {
            // SAFETY: the symbol is defined by the shim that `#[petrel::implements]` generates
            // for the single implementation linked into the program (Cargo's `links` key and
            // `petrel configure` rule out a second one), with exactly this signature, since the
            // shim's signature is copied from this interface.
            unsafe { #private(#(#names),*) }
        }
    }
}

/// One shim of the export macro: a function exported under the symbol, with the interface's
/// signature, calling the implementation through the trait.
fn expand_shim(trait_ident: &Ident, method: &Method) -> TokenStream {
    let Method {
        ident,
        params,
        output,
        ..
    } = method;
    let symbol = symbol::symbol(trait_ident, ident);
    let shim = format_ident!("__petrel_shim_{}", syn::ext::IdentExt::unraw(ident));
    let names: Vec<Ident> = (0..params.len())
        .map(|i| format_ident!("__petrel_arg{}", i))
        .collect();
    let types = params.iter().map(|(_, ty)| ty);
    quote! {
        #[unsafe(export_name = #symbol)]
        extern "Rust" fn #shim(#(#names: #types),*) #output {
            <__PetrelImpl as __PetrelTrait>::#ident(#(#names),*)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: TokenStream) -> String {
        expand_attr(TokenStream::new(), input).to_string()
    }

    #[test]
    fn declares_calls_and_exports_the_same_symbol() {
        let out = expand_str(quote! {
            pub trait Clock {
                /// Docs.
                fn wall_ns() -> u64;
            }
        });
        // The declaration, the export and nothing else name the symbol.
        assert_eq!(
            out.matches("\"__petrel_v1_Clock_wall_ns\"").count(),
            2,
            "{out}"
        );
        assert!(
            out.contains("link_name = \"__petrel_v1_Clock_wall_ns\""),
            "{out}"
        );
        assert!(
            out.contains("export_name = \"__petrel_v1_Clock_wall_ns\""),
            "{out}"
        );
        assert!(out.contains("macro_rules ! __petrel_export_Clock"), "{out}");
        assert!(out.contains("pub fn wall_ns () -> u64"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn unnamed_parameters_get_a_name() {
        let out = expand_str(quote! {
            pub trait Console { fn write(_: &[u8]); }
        });
        assert!(
            out.contains("pub fn write (__petrel_arg0 : & [u8])"),
            "{out}"
        );
    }

    #[test]
    fn invalid_trait_is_kept_beside_the_error() {
        let out = expand_str(quote! {
            pub trait Clock { fn wall_ns(&self) -> u64; }
        });
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("pub trait Clock"), "{out}");
        assert!(!out.contains("__petrel_export_Clock"), "{out}");
    }
}
