//! A client rule of `pg_hba.conf`, as PostgreSQL reads it: connection type, databases,
//! users, the client address (a network, a keyword or a host name) and the method. Parsed
//! from the file's text (the destination's, the copy's `pg_hba.conf.from-source`) or built
//! from a row of `pg_hba_file_rules`, and written back as one line.

use std::net::IpAddr;

use ipnet::IpNet;

/// The first field of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnType {
    /// Unix-domain socket.
    Local,
    /// TCP/IP, with or without TLS.
    Host,
    /// TCP/IP with TLS only.
    HostSsl,
    /// TCP/IP without TLS only.
    HostNoSsl,
    /// TCP/IP with GSSAPI encryption only.
    HostGssEnc,
    /// TCP/IP without GSSAPI encryption only.
    HostNoGssEnc,
}

impl ConnType {
    /// The keyword in `pg_hba.conf` (and in `pg_hba_file_rules.type`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnType::Local => "local",
            ConnType::Host => "host",
            ConnType::HostSsl => "hostssl",
            ConnType::HostNoSsl => "hostnossl",
            ConnType::HostGssEnc => "hostgssenc",
            ConnType::HostNoGssEnc => "hostnogssenc",
        }
    }

    /// The keyword's type.
    pub fn parse(word: &str) -> Option<ConnType> {
        Some(match word {
            "local" => ConnType::Local,
            "host" => ConnType::Host,
            "hostssl" => ConnType::HostSsl,
            "hostnossl" => ConnType::HostNoSsl,
            "hostgssenc" => ConnType::HostGssEnc,
            "hostnogssenc" => ConnType::HostNoGssEnc,
            _ => return None,
        })
    }

    /// The kinds of network connection a rule of this type admits.
    pub fn transports(self) -> &'static [Transport] {
        use Transport::*;
        match self {
            ConnType::Local => &[],
            ConnType::Host => &[Plain, Tls, Gss],
            ConnType::HostSsl => &[Tls],
            ConnType::HostNoSsl => &[Plain, Gss],
            ConnType::HostGssEnc => &[Gss],
            ConnType::HostNoGssEnc => &[Plain, Tls],
        }
    }

    /// A rule of this type matches a network connection over `t`.
    pub fn matches(self, t: Transport) -> bool {
        self.transports().contains(&t)
    }
}

/// How a network client's connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Neither TLS nor GSSAPI encryption.
    Plain,
    /// TLS.
    Tls,
    /// GSSAPI encryption.
    Gss,
}

/// A database or user name of a rule, and whether it was quoted (a quoted keyword is a
/// plain name: `"all"` is the database called all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The text, unquoted.
    pub text: String,
    /// It was written in double quotes.
    pub quoted: bool,
}

impl Token {
    /// An unquoted token.
    pub fn plain(text: impl Into<String>) -> Token {
        Token {
            text: text.into(),
            quoted: false,
        }
    }

    /// It is the keyword `word` (unquoted).
    pub fn is(&self, word: &str) -> bool {
        !self.quoted && self.text == word
    }

    /// It is a keyword, a `+group`/`@file` reference or a `/regex` (16+) rather than a
    /// plain name.
    pub fn is_special(&self) -> bool {
        !self.quoted
            && (matches!(
                self.text.as_str(),
                "all" | "sameuser" | "samerole" | "samegroup" | "replication"
            ) || self.text.starts_with(['+', '@', '/']))
    }

    /// As written in `pg_hba.conf`: quoted (with `""` for a quote) when it was quoted, is
    /// empty, or holds a character the tokenizer would split or cut on.
    pub fn render(&self) -> String {
        let needs = self.quoted
            || self.text.is_empty()
            || self
                .text
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, ',' | '"' | '#' | '\\'));
        if needs {
            format!("\"{}\"", self.text.replace('"', "\"\""))
        } else {
            self.text.clone()
        }
    }
}

/// The client address field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `all`: any address.
    All,
    /// `samehost`: any of the server's own addresses.
    SameHost,
    /// `samenet`: any address of a subnet the server is directly connected to.
    SameNet,
    /// An IP network (CIDR, or an address with a netmask).
    Net(IpNet),
    /// A host name (or `.suffix`), matched by reverse lookup.
    Hostname(String),
}

impl Address {
    /// Parses the address field (and the separate netmask field, when there is one).
    pub fn parse(address: &str, netmask: Option<&str>) -> Result<Address, String> {
        match address {
            "all" => return Ok(Address::All),
            "samehost" => return Ok(Address::SameHost),
            "samenet" => return Ok(Address::SameNet),
            _ => {}
        }
        if let Ok(net) = address.parse::<IpNet>() {
            return Ok(Address::Net(net.trunc()));
        }
        if let Ok(ip) = address.parse::<IpAddr>() {
            let Some(mask) = netmask else {
                return Err(format!("IP address {address} without a netmask"));
            };
            let mask: IpAddr = mask
                .parse()
                .map_err(|_| format!("invalid netmask {mask:?}"))?;
            return IpNet::with_netmask(ip, mask)
                .map(|n| Address::Net(n.trunc()))
                .map_err(|_| format!("invalid netmask {mask}"));
        }
        if address.is_empty() {
            return Err("empty address".into());
        }
        Ok(Address::Hostname(address.to_string()))
    }

    /// As written in `pg_hba.conf`.
    pub fn render(&self) -> String {
        match self {
            Address::All => "all".into(),
            Address::SameHost => "samehost".into(),
            Address::SameNet => "samenet".into(),
            Address::Net(n) => n.to_string(),
            Address::Hostname(h) => h.clone(),
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// One client rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its line in its file (1-based), when known.
    pub line: Option<u32>,
    /// Connection type.
    pub conn_type: ConnType,
    /// Databases it applies to.
    pub databases: Vec<Token>,
    /// Users it applies to.
    pub users: Vec<Token>,
    /// Client address (`None` for `local`).
    pub address: Option<Address>,
    /// Authentication method (`reject` refuses).
    pub method: String,
    /// Method options (`name=value`), as written.
    pub options: Vec<String>,
}

impl Rule {
    /// The rule refuses what it matches.
    pub fn rejects(&self) -> bool {
        self.method == "reject"
    }

    /// The rule as one `pg_hba.conf` line.
    pub fn render(&self) -> String {
        let list = |tokens: &[Token]| {
            tokens
                .iter()
                .map(Token::render)
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut fields = vec![
            self.conn_type.as_str().to_string(),
            list(&self.databases),
            list(&self.users),
        ];
        if let Some(a) = &self.address {
            fields.push(a.render());
        }
        fields.push(self.method.clone());
        for o in &self.options {
            match o.split_once('=') {
                Some((k, v)) if needs_quotes(v) => {
                    fields.push(format!("{k}=\"{}\"", v.replace('"', "\"\"")))
                }
                _ => fields.push(o.clone()),
            }
        }
        fields.join(" ")
    }
}

fn needs_quotes(v: &str) -> bool {
    v.is_empty()
        || v.chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '"' | '#'))
}

/// A line of a `pg_hba.conf` file that is not a comment or blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A client rule.
    Rule(Rule),
    /// `include`, `include_if_exists`, `include_dir` (16+): rules from elsewhere, not
    /// followed here (so what they admit counts as refused).
    Include {
        /// Its line.
        line: u32,
        /// As written.
        text: String,
    },
    /// A line PostgreSQL would refuse (it refuses the whole file then).
    Invalid {
        /// Its line.
        line: u32,
        /// Why.
        error: String,
    },
}

/// A field: its comma-separated tokens.
type Field = Vec<Token>;

/// Splits one logical line into fields as PostgreSQL's tokenizer does: blanks separate
/// fields, commas separate tokens of a field, `"…"` quotes (a quote inside is `""`), `#`
/// outside quotes starts a comment.
fn fields(line: &str) -> Result<Vec<Field>, String> {
    let mut out: Vec<Field> = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => break,
            _ => {}
        }
        let mut field = Vec::new();
        loop {
            // One token.
            let mut text = String::new();
            let mut quoted = false;
            let mut in_quote = false;
            let mut comma = false;
            while let Some(&c) = chars.peek() {
                if in_quote {
                    chars.next();
                    if c == '"' {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            text.push('"');
                        } else {
                            in_quote = false;
                        }
                    } else {
                        text.push(c);
                    }
                    continue;
                }
                if c.is_whitespace() || c == '#' {
                    break;
                }
                chars.next();
                match c {
                    ',' => {
                        comma = true;
                        break;
                    }
                    '"' => {
                        in_quote = true;
                        quoted = true;
                    }
                    _ => text.push(c),
                }
            }
            if in_quote {
                return Err("unterminated quoted string".into());
            }
            field.push(Token { text, quoted });
            if !comma {
                break;
            }
        }
        out.push(field);
    }
    Ok(out)
}

/// Parses a `pg_hba.conf` text into its rules and other entries, in order. Lines that end
/// in a backslash continue on the next.
pub fn parse_file(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut logical = String::new();
    let mut first_line = 0u32;
    for (i, raw) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if logical.is_empty() {
            first_line = n;
        }
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cont) = raw.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let line = std::mem::take(&mut logical);
        if let Some(e) = parse_line(&line, first_line) {
            entries.push(e);
        }
    }
    if !logical.is_empty() {
        if let Some(e) = parse_line(&logical, first_line) {
            entries.push(e);
        }
    }
    entries
}

/// Only the rules of a parsed file.
pub fn rules(entries: &[Entry]) -> Vec<Rule> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Rule(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn parse_line(line: &str, n: u32) -> Option<Entry> {
    let invalid = |error: String| Some(Entry::Invalid { line: n, error });
    let fields = match fields(line) {
        Ok(f) if f.is_empty() => return None,
        Ok(f) => f,
        Err(e) => return invalid(e),
    };
    let single = |f: &Field| -> Option<String> {
        match f.as_slice() {
            [t] => Some(t.text.clone()),
            _ => None,
        }
    };
    let first = single(&fields[0]).unwrap_or_default();
    if matches!(
        first.as_str(),
        "include" | "include_if_exists" | "include_dir"
    ) {
        return Some(Entry::Include {
            line: n,
            text: line.trim().to_string(),
        });
    }
    let Some(conn_type) = ConnType::parse(&first) else {
        return invalid(format!("invalid connection type {first:?}"));
    };
    let mut rest = fields.into_iter().skip(1);
    let (Some(databases), Some(users)) = (rest.next(), rest.next()) else {
        return invalid("end-of-line before the user field".into());
    };
    let mut rest: Vec<Field> = rest.collect();
    let address = if conn_type == ConnType::Local {
        None
    } else {
        if rest.is_empty() {
            return invalid("end-of-line before the IP address".into());
        }
        let a = rest.remove(0);
        let Some(a) = single(&a) else {
            return invalid("multiple values in the address field".into());
        };
        // An address without a prefix length takes the next field as its netmask.
        let needs_mask = a.parse::<IpAddr>().is_ok();
        let mask = if needs_mask && !rest.is_empty() {
            single(&rest.remove(0))
        } else {
            None
        };
        match Address::parse(&a, mask.as_deref()) {
            Ok(a) => Some(a),
            Err(e) => return invalid(e),
        }
    };
    if rest.is_empty() {
        return invalid("end-of-line before the authentication method".into());
    }
    let Some(method) = single(&rest.remove(0)) else {
        return invalid("multiple values in the method field".into());
    };
    let options = rest
        .into_iter()
        .flat_map(|f| f.into_iter().map(|t| t.text))
        .collect();
    Some(Entry::Rule(Rule {
        line: Some(n),
        conn_type,
        databases,
        users,
        address,
        method,
        options,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Rule {
        match parse_file(text).as_slice() {
            [Entry::Rule(r)] => r.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rules_parse_with_cidr_netmask_keywords_and_quotes() {
        let r = one("host  all,\"all\" +ops,\"we\"\"ird\\u\" 10.1.2.3/8 scram-sha-256 # c\n");
        assert_eq!(r.conn_type, ConnType::Host);
        assert!(r.databases[0].is("all"));
        assert!(!r.databases[1].is("all"));
        assert_eq!(r.users[1].text, "we\"ird\\u");
        assert_eq!(r.address, Some(Address::Net("10.0.0.0/8".parse().unwrap())));
        assert_eq!(
            r.render(),
            "host all,\"all\" +ops,\"we\"\"ird\\u\" 10.0.0.0/8 scram-sha-256"
        );
        assert_eq!(one(&r.render()), Rule { line: Some(1), ..r });

        let m = one("hostssl db u 192.168.1.0 255.255.255.0 md5 clientcert=verify-ca");
        assert_eq!(
            m.address,
            Some(Address::Net("192.168.1.0/24".parse().unwrap()))
        );
        assert_eq!(m.options, vec!["clientcert=verify-ca".to_string()]);
        let l = one("local all all peer map=\"my map\"");
        assert_eq!(l.address, None);
        assert_eq!(l.render(), "local all all peer map=\"my map\"");
        assert_eq!(
            one("host all all .example.com trust").address,
            Some(Address::Hostname(".example.com".into()))
        );
        assert_eq!(
            one("host all all samenet trust").address,
            Some(Address::SameNet)
        );
    }

    #[test]
    fn comments_continuations_includes_and_errors() {
        let text = "# comment\n\nhost all all \\\n  ::1/128 trust\ninclude other.conf\nbogus all all trust\nhost all all\n";
        let e = parse_file(text);
        assert_eq!(e.len(), 4, "{e:?}");
        match &e[0] {
            Entry::Rule(r) => {
                assert_eq!(r.line, Some(3));
                assert_eq!(r.address, Some(Address::Net("::1/128".parse().unwrap())));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(e[1], Entry::Include { line: 5, .. }));
        assert!(matches!(e[2], Entry::Invalid { line: 6, .. }));
        assert!(matches!(e[3], Entry::Invalid { line: 7, .. }));
        assert!(matches!(
            parse_file("host \"all all 1.2.3.4/32 trust")[0],
            Entry::Invalid { .. }
        ));
    }
}
