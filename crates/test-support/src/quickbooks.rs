//! QuickBooks Desktop as the server meets it through the QuickBooks Web Connector
//! (QBWC 2.x): a test company's [`Ledger`] that answers qbXML requests as QuickBooks
//! does, and a [`FakeWebConnector`] that drives a QBWC SOAP service exactly like the
//! Web Connector (the calls, their order, their parameters, and the faults a real
//! installation produces). Tests only, never the product.
//!
//! Sources: Intuit's QBWC Programmer's Guide (the callbacks, `authenticate`'s string
//! array, percent done, `getLastError`, `connectionError`), the Web Connector's WSDL
//! (namespace `http://developer.intuit.com/`, document/literal, the parameter names),
//! Intuit's qbXML message definitions (`qbxmlops`: element order, `ReportRet`,
//! `EmployeeRet`, `PreferencesRet`) and real QuickBooks answers published by public
//! projects (how report rows name accounts: full names in `RowData`, leaf names in the
//! label column, `TextRow`/`SubtotalRow` around a parent's sub-accounts).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ledger;
mod web_connector;

pub use ledger::{ComError, Ledger, LedgerAccount, LedgerFault, QbRequestKind};
pub use web_connector::{
    soap_envelope, wsdl_operations, FakeWebConnector, WcCall, WcFaults, WcMethod, WcOutcome,
    WcSession, QBWC_NAMESPACE,
};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// A small element tree, enough to read qbXML requests and SOAP answers in the fakes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    /// The local name (namespace prefix dropped).
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text, concatenated.
    pub text: String,
}

/// A parsed document: its root and its processing instructions (`<?qbxml version?>`).
#[derive(Clone, Debug, Default)]
pub struct Document {
    pub root: Element,
    pub instructions: Vec<String>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the child at `path` (`ReportPeriod/FromReportDate`).
    pub fn text_at(&self, path: &str) -> Option<&str> {
        let mut e = self;
        for part in path.split('/') {
            e = e.child(part)?;
        }
        Some(e.text.as_str())
    }

    /// The first element named `name` at any depth (this one included).
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

/// Parses `xml` into a tree. DTDs and entities other than XML's own are refused, as
/// QuickBooks and the Web Connector do.
pub fn parse_xml(xml: &str) -> Result<Document, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut doc = Document::default();
    let mut root = None;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                if root.is_some() && stack.is_empty() {
                    return Err("more than one root element".into());
                }
                stack.push(element(&reader, &e)?);
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("an end tag without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Empty(e) => {
                let done = element(&reader, &e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                if let Some(e) = stack.last_mut() {
                    e.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| e.to_string())?
                } else {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .and_then(|s| s.chars().next())
                };
                let c = c.ok_or("an unknown entity")?;
                if let Some(e) = stack.last_mut() {
                    e.text.push(c);
                }
            }
            Event::PI(pi) => {
                doc.instructions
                    .push(String::from_utf8_lossy(&pi).into_owned());
            }
            Event::DocType(_) => return Err("a DTD".into()),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    doc.root = root.ok_or("no root element")?;
    Ok(doc)
}

fn element(reader: &Reader<&[u8]>, e: &BytesStart) -> Result<Element, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let value = a
            .decode_and_unescape_value_with(
                reader.decoder(),
                quick_xml::escape::resolve_predefined_entity,
            )
            .map_err(|e| e.to_string())?;
        attrs.push((
            String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Escapes text for an element or an attribute.
pub fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}
