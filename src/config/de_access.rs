//! The serde access types of the located-tree deserializer (`de.rs`): sequences, mappings,
//! structs (with unknown keys reported and absent fields fed as *missing*), and enums, whose
//! variant is chosen by name or, for the `$map` / `$seq` / `$scalar` variants, by the shape
//! of the node.
//!
//! Same rules as `de.rs`: a problem is recorded where it is seen and a placeholder is given
//! instead, so nothing here returns an error of its own.

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::de_node::{DeError, Input, NodeDe};
use super::error::suggest;
use super::yaml::{Entry, Node, NodeKind};

/// Which variant an enum node selects, and its content (`None` for a bare name).
pub(super) struct Choice<'a> {
    variant: &'static str,
    content: Option<Input<'a>>,
}

fn describe_variants(variants: &[&str]) -> String {
    let mut names: Vec<String> = variants.iter().filter(|v| !v.starts_with('$')).map(|v| format!("`{v}`")).collect();
    for (shape, words) in [("$map", "a mapping"), ("$seq", "a list"), ("$scalar", "a name")] {
        if variants.contains(&shape) {
            names.push(words.to_string());
        }
    }
    names.join(", ")
}

impl<'a> NodeDe<'a> {
    pub(super) fn choose_variant(&self, variants: &'static [&'static str]) -> Choice<'a> {
        let named = |name: &str| variants.iter().copied().find(|v| *v == name && !v.starts_with('$'));
        let shape = |name: &str| variants.iter().copied().find(|v| *v == name);
        let fallback =
            || Choice { variant: variants.first().copied().unwrap_or(""), content: Some(Input::Poisoned(self.mark())) };
        let node = match self.input {
            Input::Node(node) => node,
            _ => {
                self.mismatch(&format!("one of {}", describe_variants(variants)));
                return fallback();
            }
        };
        match &node.kind {
            NodeKind::Scalar(s) if !s.is_null() => {
                if let Some(v) = named(&s.text) {
                    return Choice { variant: v, content: None };
                }
                if let Some(v) = shape("$scalar") {
                    return Choice { variant: v, content: Some(self.input) };
                }
                let hint =
                    suggest(&s.text, variants).map(|near| format!("; did you mean `{near}`?")).unwrap_or_default();
                self.record(format!(
                    "unknown value {:?}, expected one of {}{hint}",
                    s.shown(),
                    describe_variants(variants)
                ));
            }
            NodeKind::Map(entries) => {
                if let [entry] = entries.as_slice() {
                    if let Some(v) = named(&entry.key) {
                        return Choice { variant: v, content: Some(Input::Node(&entry.value)) };
                    }
                }
                if let Some(v) = shape("$map") {
                    return Choice { variant: v, content: Some(self.input) };
                }
                let given: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
                match entries.as_slice() {
                    [entry] => {
                        let hint = suggest(&entry.key, variants)
                            .map(|near| format!("; did you mean `{near}`?"))
                            .unwrap_or_default();
                        let message = format!(
                            "unknown key `{}`, expected one of {}{hint}",
                            entry.key,
                            describe_variants(variants)
                        );
                        self.record_at(entry.key_mark, self.path.clone(), message);
                    }
                    _ => self.record(format!(
                        "expected exactly one of {}, found {}",
                        describe_variants(variants),
                        if given.is_empty() { "an empty mapping".to_string() } else { given.join(", ") }
                    )),
                }
            }
            NodeKind::Seq(_) if shape("$seq").is_some() => {
                return Choice { variant: "$seq", content: Some(self.input) };
            }
            _ => self.mismatch(&format!("one of {}", describe_variants(variants))),
        }
        fallback()
    }
}

pub(super) struct SeqAccess<'s, 'a> {
    pub(super) items: std::slice::Iter<'a, Node>,
    pub(super) index: usize,
    pub(super) de: &'s NodeDe<'a>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.next() else { return Ok(None) };
        let path = self.de.path.index(self.index);
        self.index += 1;
        seed.deserialize(NodeDe::new(Input::Node(item), path, self.de.sink)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

pub(super) struct MapAccess<'s, 'a> {
    pub(super) entries: std::slice::Iter<'a, Entry>,
    pub(super) value: Option<&'a Entry>,
    pub(super) de: &'s NodeDe<'a>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else { return Ok(None) };
        self.value = Some(entry);
        let key: StrDeserializer<'_, DeError> = entry.key.as_str().into_deserializer();
        // A rejected key is reported at the key itself.
        seed.deserialize(key).map(Some).map_err(|error| {
            if !error.recorded {
                self.de.record_at(entry.key_mark, self.de.path.key(&entry.key), error.message);
            }
            DeError::recorded()
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(entry) => {
                seed.deserialize(NodeDe::new(Input::Node(&entry.value), self.de.path.key(&entry.key), self.de.sink))
            }
            None => seed.deserialize(self.de.poisoned_child(self.de.path.clone())),
        }
    }
}

pub(super) struct StructAccess<'s, 'a> {
    pub(super) pairs: std::vec::IntoIter<(&'static str, Input<'a>)>,
    pub(super) value: Option<(&'static str, Input<'a>)>,
    pub(super) de: &'s NodeDe<'a>,
}

impl<'de> de::MapAccess<'de> for StructAccess<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some(pair) = self.pairs.next() else { return Ok(None) };
        self.value = Some(pair);
        let key: StrDeserializer<'_, DeError> = pair.0.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some((field, input)) => seed.deserialize(NodeDe::new(input, self.de.path.key(field), self.de.sink)),
            None => seed.deserialize(self.de.poisoned_child(self.de.path.clone())),
        }
    }
}

pub(super) struct EnumAccess<'s, 'a> {
    pub(super) choice: Choice<'a>,
    pub(super) de: &'s NodeDe<'a>,
}

impl<'de, 's, 'a> de::EnumAccess<'de> for EnumAccess<'s, 'a> {
    type Error = DeError;
    type Variant = VariantAccess<'s, 'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), DeError> {
        let name: StrDeserializer<'_, DeError> = self.choice.variant.into_deserializer();
        let value = seed.deserialize(name)?;
        Ok((value, VariantAccess { choice: self.choice, de: self.de }))
    }
}

pub(super) struct VariantAccess<'s, 'a> {
    choice: Choice<'a>,
    de: &'s NodeDe<'a>,
}

impl<'a> VariantAccess<'_, 'a> {
    /// The deserializer for the variant's content (`profile: PATH` → PATH).
    fn content(&self) -> NodeDe<'a> {
        let variant = self.choice.variant;
        let path = if variant.starts_with('$') { self.de.path.clone() } else { self.de.path.key(variant) };
        match self.choice.content {
            Some(input) => NodeDe::new(input, path, self.de.sink),
            None => {
                self.de.record(format!("`{variant}` needs a value: write `{variant}: …`"));
                self.de.poisoned_child(path)
            }
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        if let Some(Input::Node(node)) = self.choice.content {
            let variant = self.choice.variant;
            self.de.record_at(
                node.mark,
                self.de.path.key(variant),
                format!("`{variant}` takes no value: write it alone"),
            );
        }
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self.content())
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self.content(), visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self.content(), "", fields, visitor)
    }
}
