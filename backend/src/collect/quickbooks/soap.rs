//! The SOAP 1.1 messages of the QuickBooks Web Connector (QBWC Programmer's Guide 2.x):
//! reading a call (`<soap:Envelope><soap:Body><authenticate xmlns="http://developer.intuit.com/">`
//! with its parameters as child elements) and writing the answers and faults. Read as a
//! stream with quick-xml: no DTD, no entity beyond XML's own, a size and a depth limit.
use quick_xml::events::Event;
use quick_xml::Reader;

/// The Web Connector's namespace, of every method and `SOAPAction`.
pub const NAMESPACE: &str = "http://developer.intuit.com/";

/// Largest call read: a qbXML answer (20 MiB) escaped inside an envelope.
pub const MAX_CALL_BYTES: usize = 24 * 1024 * 1024;

/// Deepest nesting accepted in a call (an envelope is four levels deep).
const MAX_DEPTH: usize = 16;

/// A method the Web Connector calls, with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    ServerVersion,
    ClientVersion {
        version: String,
    },
    Authenticate {
        username: String,
        password: String,
    },
    SendRequestXml {
        ticket: String,
        company_file: String,
    },
    ReceiveResponseXml {
        ticket: String,
        response: String,
        hresult: String,
        message: String,
    },
    ConnectionError {
        ticket: String,
        hresult: String,
        message: String,
    },
    GetLastError {
        ticket: String,
    },
    CloseConnection {
        ticket: String,
    },
}

/// Why a call could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SoapError {
    #[error("the call is larger than {MAX_CALL_BYTES} bytes")]
    TooLarge,
    #[error("the call declares a DTD or an entity, which are not accepted")]
    Dtd,
    #[error("the call is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the call has no SOAP body")]
    NoBody,
    #[error("unknown method '{0}'")]
    UnknownMethod(String),
    #[error("the parameter '{0}' is missing")]
    Missing(&'static str),
}

/// The method element and its parameters, as read.
struct RawCall {
    method: String,
    params: Vec<(String, String)>,
}

impl RawCall {
    fn get(&self, name: &'static str) -> Result<String, SoapError> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or(SoapError::Missing(name))
    }

    /// An optional parameter (the Web Connector leaves some empty or out).
    fn get_or_empty(&self, name: &'static str) -> String {
        self.get(name).unwrap_or_default()
    }
}

/// Reads a call of the Web Connector.
pub fn read_call(xml: &[u8]) -> Result<Call, SoapError> {
    if xml.len() > MAX_CALL_BYTES {
        return Err(SoapError::TooLarge);
    }
    let raw = read_raw(xml)?;
    let call = match raw.method.as_str() {
        "serverVersion" => Call::ServerVersion,
        "clientVersion" => Call::ClientVersion {
            version: raw.get_or_empty("strVersion"),
        },
        "authenticate" => Call::Authenticate {
            username: raw.get("strUserName")?,
            password: raw.get("strPassword")?,
        },
        "sendRequestXML" => Call::SendRequestXml {
            ticket: raw.get("ticket")?,
            company_file: raw.get_or_empty("strCompanyFileName"),
        },
        "receiveResponseXML" => Call::ReceiveResponseXml {
            ticket: raw.get("ticket")?,
            response: raw.get_or_empty("response"),
            hresult: raw.get_or_empty("hresult"),
            message: raw.get_or_empty("message"),
        },
        "connectionError" => Call::ConnectionError {
            ticket: raw.get("ticket")?,
            hresult: raw.get_or_empty("hresult"),
            message: raw.get_or_empty("message"),
        },
        "getLastError" => Call::GetLastError {
            ticket: raw.get("ticket")?,
        },
        "closeConnection" => Call::CloseConnection {
            ticket: raw.get("ticket")?,
        },
        other => return Err(SoapError::UnknownMethod(other.chars().take(64).collect())),
    };
    Ok(call)
}

fn malformed(e: impl std::fmt::Display) -> SoapError {
    SoapError::Malformed(e.to_string())
}

/// Walks the envelope: the first element inside `Body` is the method, its child
/// elements the parameters (text or CDATA; a qbXML answer arrives escaped).
fn read_raw(xml: &[u8]) -> Result<RawCall, SoapError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut path: Vec<String> = Vec::new();
    let mut method: Option<String> = None;
    let mut params: Vec<(String, String)> = Vec::new();
    let mut text = String::new();
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(malformed)?;
        match event {
            Event::DocType(_) => return Err(SoapError::Dtd),
            Event::Start(e) => {
                let name = local_name(e.local_name().as_ref())?;
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(malformed("nested too deeply"));
                }
                text.clear();
                if path.len() == 3 && path[1] == "Body" && method.is_none() {
                    method = path.last().cloned();
                }
            }
            Event::Empty(e) => {
                let name = local_name(e.local_name().as_ref())?;
                if path.len() == 2 && path[1] == "Body" && method.is_none() {
                    method = Some(name);
                } else if path.len() == 3 && method.is_some() {
                    params.push((name, String::new()));
                }
            }
            Event::Text(t) => {
                let piece = t.xml_content().map_err(malformed)?;
                text.push_str(&piece);
            }
            Event::GeneralRef(r) => text.push_str(&resolve_reference(&r)?),
            Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::End(_) => {
                if path.len() == 4 && method.is_some() {
                    params.push((path[3].clone(), std::mem::take(&mut text)));
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !path.is_empty() {
        return Err(malformed("the document ends inside an element"));
    }
    let method = method.ok_or(SoapError::NoBody)?;
    Ok(RawCall { method, params })
}

/// `&amp;`-style references: XML's five and character references, nothing else.
fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<String, SoapError> {
    if let Some(c) = r.resolve_char_ref().map_err(malformed)? {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(malformed)?;
    let c = match name.as_ref() {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return Err(SoapError::Dtd),
    };
    Ok(c.to_string())
}

fn local_name(bytes: &[u8]) -> Result<String, SoapError> {
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(malformed)
}

/// Escapes text for an element's content.
fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

/// The answer to `method` whose result is the string `result`.
pub fn string_result(method: &str, result: &str) -> String {
    envelope(&format!(
        r#"<{method}Response xmlns="{NAMESPACE}"><{method}Result>{}</{method}Result></{method}Response>"#,
        escape(result)
    ))
}

/// The answer to `receiveResponseXML`: the percentage done (100: done, negative: an
/// error the Web Connector asks `getLastError` about).
pub fn int_result(method: &str, result: i32) -> String {
    envelope(&format!(
        r#"<{method}Response xmlns="{NAMESPACE}"><{method}Result>{result}</{method}Result></{method}Response>"#
    ))
}

/// The answer to `authenticate`: a string array (ticket, then "", "none", "nvu" or a
/// company file).
pub fn strings_result(method: &str, items: &[&str]) -> String {
    let items: String = items
        .iter()
        .map(|s| format!("<string>{}</string>", escape(s)))
        .collect();
    envelope(&format!(
        r#"<{method}Response xmlns="{NAMESPACE}"><{method}Result>{items}</{method}Result></{method}Response>"#
    ))
}

/// A SOAP fault: `soap:Client` for a call that can't be read.
pub fn client_fault(message: &str) -> String {
    envelope(&format!(
        "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{}</faultstring></soap:Fault>",
        escape(message)
    ))
}

/// The method name of a call, for the answer's element (`authenticate` →
/// `authenticateResponse`).
pub fn method_name(call: &Call) -> &'static str {
    match call {
        Call::ServerVersion => "serverVersion",
        Call::ClientVersion { .. } => "clientVersion",
        Call::Authenticate { .. } => "authenticate",
        Call::SendRequestXml { .. } => "sendRequestXML",
        Call::ReceiveResponseXml { .. } => "receiveResponseXML",
        Call::ConnectionError { .. } => "connectionError",
        Call::GetLastError { .. } => "getLastError",
        Call::CloseConnection { .. } => "closeConnection",
    }
}

/// The service description (`GET /api/qbwc?wsdl`): the eight operations of the Web
/// Connector's `QBWebConnectorSvc`, document/literal, at `address`.
pub fn wsdl(address: &str) -> String {
    let operations = [
        ("serverVersion", &[][..], "string"),
        ("clientVersion", &["strVersion"][..], "string"),
        (
            "authenticate",
            &["strUserName", "strPassword"][..],
            "ArrayOfString",
        ),
        (
            "sendRequestXML",
            &[
                "ticket",
                "strHCPResponse",
                "strCompanyFileName",
                "qbXMLCountry",
                "qbXMLMajorVers",
                "qbXMLMinorVers",
            ][..],
            "string",
        ),
        (
            "receiveResponseXML",
            &["ticket", "response", "hresult", "message"][..],
            "int",
        ),
        (
            "connectionError",
            &["ticket", "hresult", "message"][..],
            "string",
        ),
        ("getLastError", &["ticket"][..], "string"),
        ("closeConnection", &["ticket"][..], "string"),
    ];
    let mut elements = String::new();
    let mut messages = String::new();
    let mut port_ops = String::new();
    let mut binding_ops = String::new();
    for (op, params, result) in operations {
        let fields: String = params
            .iter()
            .map(|p| {
                let kind = if p.ends_with("Vers") { "int" } else { "string" };
                format!(r#"<s:element minOccurs="0" maxOccurs="1" name="{p}" type="s:{kind}"/>"#)
            })
            .collect();
        let result_type = if result == "ArrayOfString" {
            "tns:ArrayOfString".to_string()
        } else {
            format!("s:{result}")
        };
        elements.push_str(&format!(
            r#"<s:element name="{op}"><s:complexType><s:sequence>{fields}</s:sequence></s:complexType></s:element><s:element name="{op}Response"><s:complexType><s:sequence><s:element minOccurs="{min}" maxOccurs="1" name="{op}Result" type="{result_type}"/></s:sequence></s:complexType></s:element>"#,
            min = if result == "int" { 1 } else { 0 }
        ));
        messages.push_str(&format!(
            r#"<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" element="tns:{op}"/></wsdl:message><wsdl:message name="{op}SoapOut"><wsdl:part name="parameters" element="tns:{op}Response"/></wsdl:message>"#
        ));
        port_ops.push_str(&format!(
            r#"<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/><wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>"#
        ));
        binding_ops.push_str(&format!(
            r#"<wsdl:operation name="{op}"><soap:operation soapAction="{NAMESPACE}{op}" style="document"/><wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>"#
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><wsdl:definitions xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:tns="{NAMESPACE}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" targetNamespace="{NAMESPACE}"><wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="{NAMESPACE}">{elements}<s:complexType name="ArrayOfString"><s:sequence><s:element minOccurs="0" maxOccurs="unbounded" name="string" nillable="true" type="s:string"/></s:sequence></s:complexType></s:schema></wsdl:types>{messages}<wsdl:portType name="QBWebConnectorSvcSoap">{port_ops}</wsdl:portType><wsdl:binding name="QBWebConnectorSvcSoap" type="tns:QBWebConnectorSvcSoap"><soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>{binding_ops}</wsdl:binding><wsdl:service name="QBWebConnectorSvc"><wsdl:port name="QBWebConnectorSvcSoap" binding="tns:QBWebConnectorSvcSoap"><soap:address location="{}"/></wsdl:port></wsdl:service></wsdl:definitions>"#,
        escape(address)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, params: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><{method} xmlns="http://developer.intuit.com/">{params}</{method}></soap:Body></soap:Envelope>"#
        )
        .into_bytes()
    }

    #[test]
    fn calls_are_read_with_their_parameters() {
        let c = read_call(&call(
            "authenticate",
            "<strUserName>qb</strUserName><strPassword>p&amp;w&lt;d</strPassword>",
        ));
        assert_eq!(
            c,
            Ok(Call::Authenticate {
                username: "qb".into(),
                password: "p&w<d".into()
            })
        );
        let c = read_call(&call(
            "receiveResponseXML",
            "<ticket>t</ticket><response>&lt;?xml version=\"1.0\" ?&gt;&lt;QBXML/&gt;</response><hresult/><message/>",
        ));
        assert_eq!(
            c,
            Ok(Call::ReceiveResponseXml {
                ticket: "t".into(),
                response: "<?xml version=\"1.0\" ?><QBXML/>".into(),
                hresult: String::new(),
                message: String::new()
            })
        );
        let c = read_call(&call(
            "receiveResponseXML",
            "<ticket>t</ticket><response><![CDATA[<QBXML/>]]></response>",
        ));
        assert!(
            matches!(c, Ok(Call::ReceiveResponseXml { response, .. }) if response == "<QBXML/>")
        );
        assert_eq!(
            read_call(&call("serverVersion", "")),
            Ok(Call::ServerVersion)
        );
    }

    #[test]
    fn broken_and_hostile_calls_are_refused() {
        assert_eq!(
            read_call(&call("authenticate", "<strUserName>qb</strUserName>")),
            Err(SoapError::Missing("strPassword"))
        );
        assert!(matches!(
            read_call(&call("dropTables", "")),
            Err(SoapError::UnknownMethod(_))
        ));
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><getLastError xmlns="http://developer.intuit.com/"><ticket>&lol2;</ticket></getLastError></soap:Body></soap:Envelope>"#;
        assert_eq!(read_call(bomb), Err(SoapError::Dtd));
        assert!(matches!(
            read_call(b"<soap:Envelope><soap:Body><getLastError>"),
            Err(SoapError::Malformed(_))
        ));
        assert_eq!(
            read_call(br#"<soap:Envelope xmlns:soap="x"><soap:Header/></soap:Envelope>"#),
            Err(SoapError::NoBody)
        );
        let big = vec![b' '; MAX_CALL_BYTES + 1];
        assert_eq!(read_call(&big), Err(SoapError::TooLarge));
    }

    #[test]
    fn answers_are_escaped_envelopes() {
        let a = strings_result("authenticate", &["tick<et", "none"]);
        assert!(a.contains(
            "<authenticateResult><string>tick&lt;et</string><string>none</string></authenticateResult>"
        ));
        assert!(int_result("receiveResponseXML", 100)
            .contains("<receiveResponseXMLResult>100</receiveResponseXMLResult>"));
        assert!(wsdl("https://x/api/qbwc")
            .contains(r#"soapAction="http://developer.intuit.com/authenticate""#));
    }
}
