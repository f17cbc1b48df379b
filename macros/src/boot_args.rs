//! `#[derive(BootArgs)]`: a struct whose named fields are read from the boot arguments.
//!
//! Each field's boot argument is named after the field (`_` becomes `-`) unless
//! `#[arg(name = "...")]` names it. The derive implements `petrel::bootargs::FromArgs` and
//! marks the struct as a valid parameter of the `#[petrel::main]` function.

use crate::errors::Errors;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Type};

/// The derive's entry point.
pub(crate) fn expand_derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match parse(&input) {
        Ok(args) => expand(&args),
        Err(error) => fallback(&input, &error),
    }
}

/// A validated boot-arguments struct.
struct BootArgs<'a> {
    ident: &'a Ident,
    fields: Vec<Field<'a>>,
}

/// One field and its boot argument.
struct Field<'a> {
    ident: &'a Ident,
    ty: &'a Type,
    /// The boot argument's name, without the leading `--`.
    name: String,
}

/// Parses and validates the derive's input.
fn parse(input: &DeriveInput) -> syn::Result<BootArgs<'_>> {
    let mut errors = Errors::default();
    let ident = &input.ident;
    const SHAPE: &str = "`#[derive(BootArgs)]` applies to a struct with named fields, \
                         e.g. `struct Args { hello: String }`";
    let named = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(named),
            Fields::Unnamed(fields) => {
                errors.spanned(fields, SHAPE);
                None
            }
            Fields::Unit => {
                let (token, semi) = (&data.struct_token, &data.semi_token);
                errors.spanned(quote!(#token #ident #semi), SHAPE);
                None
            }
        },
        Data::Enum(data) => {
            let token = &data.enum_token;
            errors.spanned(quote!(#token #ident), SHAPE);
            None
        }
        Data::Union(data) => {
            let token = &data.union_token;
            errors.spanned(quote!(#token #ident), SHAPE);
            None
        }
    };
    if !input.generics.params.is_empty() {
        errors.spanned(
            &input.generics,
            "a boot-arguments struct cannot be generic: each field is read as one concrete type",
        );
    }
    if let Some(where_clause) = &input.generics.where_clause {
        errors.spanned(
            where_clause,
            "a boot-arguments struct cannot have a `where` clause",
        );
    }
    let mut fields: Vec<Field<'_>> = Vec::new();
    for field in named.iter().flat_map(|n| n.named.iter()) {
        let Some(field_ident) = &field.ident else {
            continue;
        };
        let Some((name, name_span)) = field_name(field, field_ident, &mut errors) else {
            continue;
        };
        if let Some(first) = fields.iter().find(|f| f.name == name) {
            errors.push(syn::Error::new(
                name_span,
                format!(
                    "boot argument `--{name}` is already read by field `{}`; give one of them \
                     another name with `#[arg(name = \"...\")]`",
                    first.ident
                ),
            ));
            continue;
        }
        fields.push(Field {
            ident: field_ident,
            ty: &field.ty,
            name,
        });
    }
    errors.finish()?;
    Ok(BootArgs { ident, fields })
}

/// The boot argument name of `field`: from `#[arg(name = "...")]`, else from the ident.
/// `None` (with errors recorded) if the name is invalid or the attribute malformed.
fn field_name(field: &syn::Field, ident: &Ident, errors: &mut Errors) -> Option<(String, Span)> {
    let mut explicit: Option<LitStr> = None;
    let mut ok = true;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("arg")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                if explicit.is_some() {
                    return Err(meta.error("duplicate `name` for this field"));
                }
                explicit = Some(lit);
                Ok(())
            } else {
                Err(meta.error("unknown key in `#[arg(...)]`; the only key is `name = \"...\"`"))
            }
        });
        if let Err(error) = parsed {
            errors.push(error);
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    match explicit {
        Some(lit) => {
            let name = lit.value();
            match check_name(&name) {
                Ok(()) => Some((name, lit.span())),
                Err(why) => {
                    let hint = if name.starts_with('-') {
                        "; write the name without the leading `--`"
                    } else {
                        ""
                    };
                    let message = if name.is_empty() {
                        format!("invalid boot argument name: {why}")
                    } else {
                        format!("invalid boot argument name `{name}`: {why}{hint}")
                    };
                    errors.spanned(&lit, message);
                    None
                }
            }
        }
        None => {
            let name = name_of_ident(ident);
            match check_name(&name) {
                Ok(()) => Some((name, ident.span())),
                Err(why) => {
                    errors.spanned(
                        ident,
                        format!(
                            "this field's boot argument name, `{name}`, is invalid: {why}; \
                             name it with `#[arg(name = \"...\")]`"
                        ),
                    );
                    None
                }
            }
        }
    }
}

/// A field's default boot argument name: its ident with `_` replaced by `-`.
pub(crate) fn name_of_ident(ident: &Ident) -> String {
    ident.unraw().to_string().replace('_', "-")
}

/// Checks a boot argument name with the rule `petrel configure` and the parser use.
pub(crate) fn check_name(name: &str) -> Result<(), &'static str> {
    petrel_bootvar::name_problem(name).map_or(Ok(()), Err)
}

/// The two impls.
fn expand(args: &BootArgs<'_>) -> TokenStream {
    let ident = args.ident;
    let inits = args.fields.iter().map(|f| {
        let Field {
            ident: field,
            ty,
            name,
        } = f;
        // Spanned at the field's type: a type that cannot be read from a boot argument is
        // reported there.
        let get = quote_spanned! {ty.span()=>
            ::petrel::bootargs::Values::get::<#ty>(values, #name)
        };
        quote!(#field: #get)
    });
    quote! {
        #[automatically_derived]
        impl ::petrel::bootargs::FromArgs for #ident {
            fn from_args(values: &::petrel::bootargs::Values) -> Self {
                #ident { #(#inits),* }
            }
        }

        #[automatically_derived]
        impl ::petrel::__private::StartParam for #ident {}
    }
}

/// On error: the errors, and stub impls so that the struct's uses (as a main function
/// parameter, through `FromArgs`) do not add secondary errors.
fn fallback(input: &DeriveInput, error: &syn::Error) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let error = error.to_compile_error();
    quote! {
        #error

        #[automatically_derived]
        impl #impl_generics ::petrel::bootargs::FromArgs for #ident #ty_generics #where_clause {
            fn from_args(_: &::petrel::bootargs::Values) -> Self {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl #impl_generics ::petrel::__private::StartParam for #ident #ty_generics #where_clause {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ident_underscores_become_dashes() {
        let ident = Ident::new("ipv4_gateway", Span::call_site());
        assert_eq!(name_of_ident(&ident), "ipv4-gateway");
        let raw = Ident::new_raw("type", Span::call_site());
        assert_eq!(name_of_ident(&raw), "type");
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("hello"), Ok(()));
        assert_eq!(check_name("ipv4-gateway"), Ok(()));
        assert_eq!(check_name("a1-2"), Ok(()));
        assert!(check_name("").is_err());
        assert!(check_name("-x").is_err());
        assert!(check_name("--x").is_err());
        assert!(check_name("Hello").is_err());
        assert!(check_name("a_b").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("é").is_err());
        // The parser's rule, which the macro once did not follow.
        assert!(check_name("9x").is_err());
        assert!(check_name("a--b").is_err());
        assert!(check_name("help").is_err());
    }
}
