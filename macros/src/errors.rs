//! Error accumulation and the fallback expansion shared by every macro.

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Collects validation errors so that one run of a macro reports every problem at once.
#[derive(Default)]
pub(crate) struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    /// Records `error` (combined with those already recorded).
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// Records an error spanning `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// `Err` with every recorded error, or `Ok(())` if there is none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.first {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The expansion of an attribute macro whose input is invalid: the errors, and the item
/// exactly as the user wrote it, so that the rest of the user's code still sees the item and
/// does not produce secondary errors about it being missing.
pub(crate) fn fallback(item: TokenStream, error: &syn::Error) -> TokenStream {
    let mut out = error.to_compile_error();
    out.extend(item);
    out
}

/// Reports any token in an attribute's arguments: none of our attributes takes arguments.
pub(crate) fn no_args(args: TokenStream, attribute: &str) -> syn::Result<()> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            args,
            format!("`#[{attribute}]` takes no arguments"),
        ))
    }
}

/// The tokens of an item where "this macro does not apply to this kind of item" is best
/// reported: its keyword and name (`struct Clock`), or the whole item for rarer kinds.
pub(crate) fn item_head(item: &syn::Item) -> TokenStream {
    use syn::Item;
    match item {
        Item::Fn(f) => keyword_and_name(&f.sig.fn_token, &f.sig.ident),
        Item::Struct(s) => keyword_and_name(&s.struct_token, &s.ident),
        Item::Enum(e) => keyword_and_name(&e.enum_token, &e.ident),
        Item::Trait(t) => keyword_and_name(&t.trait_token, &t.ident),
        Item::Impl(i) => i.impl_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}

fn keyword_and_name(keyword: &impl ToTokens, name: &syn::Ident) -> TokenStream {
    let mut tokens = keyword.to_token_stream();
    name.to_tokens(&mut tokens);
    tokens
}
