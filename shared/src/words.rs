//! Enums whose values are words stored in the database and sent in JSON.
/// Generates `as_str`, `parse` and `Display` from the serde names, so the database
/// columns (TEXT with a CHECK) and the JSON use one spelling. Words are taken as `tt`,
/// not `literal`: a `literal` fragment reaches the `ToSchema` derive wrapped in an
/// invisible group it does not read, and the schema's enum would list the variant
/// names instead of the words.
macro_rules! words {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:tt,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(salvo_oapi::ToSchema))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The spellings, in the order of [`Self::ALL`].
            pub const WORDS: &'static [&'static str] = &[$($word),*];

            /// The stored and JSON spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)*
                }
            }

            /// The value of a stored spelling.
            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use words;
