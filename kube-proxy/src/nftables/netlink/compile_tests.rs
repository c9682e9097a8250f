use super::*;

/// An attribute tree in a canonical order: attributes sorted by type at each level, list
/// elements (expressions, set elements) kept in order; set ids left out (nft numbers its
/// sets its own way; the anonymous map's id is checked separately).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
enum Node {
    Leaf(u16, Vec<u8>),
    Nest(u16, Vec<Node>),
}

fn tree(buf: &[u8], list: bool, depth: usize) -> Vec<Node> {
    let mut out = Vec::new();
    let mut b = buf;
    while b.len() >= 4 {
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let raw = u16::from_ne_bytes([b[2], b[3]]);
        let ty = raw & 0x3fff;
        let v = &b[4..len];
        if raw & NLA_F_NESTED != 0 {
            // Expression lists and element lists keep their order (at the top level,
            // nested, only they carry these numbers; a chain's hook has them too, in nft's
            // order).
            let is_list =
                depth == 0 && (ty == NFTA_RULE_EXPRESSIONS || ty == NFTA_SET_ELEM_LIST_ELEMENTS);
            out.push(Node::Nest(ty, tree(v, is_list, depth + 1)));
        } else {
            out.push(Node::Leaf(ty, v.to_vec()));
        }
        b = &b[((len + 3) & !3).min(b.len())..];
    }
    if !list {
        out.sort();
    }
    out
}

/// (message type, canonical attributes) with set ids dropped.
fn canonical(ty: u16, payload: &[u8]) -> (u16, Vec<Node>) {
    fn strip(n: Vec<Node>, msg: u16, depth: usize) -> Vec<Node> {
        n.into_iter()
            .filter_map(|x| match x {
                // NFTA_SET_ID (sets), NFTA_SET_ELEM_LIST_SET_ID (elements).
                Node::Leaf(10, _) if msg == NFT_MSG_NEWSET && depth == 0 => None,
                Node::Leaf(4, _) if msg == NFT_MSG_NEWSETELEM && depth == 0 => None,
                Node::Nest(t, c) => Some(Node::Nest(t, strip(c, msg, depth + 1))),
                other => Some(other),
            })
            .collect()
    }
    let attrs = tree(&payload[4..], false, 0);
    let attrs = if ty == NFT_MSG_NEWRULE {
        // Expression data: drop lookup/dynset set ids (attr 4 of lookup, 2 of dynset).
        attrs
            .into_iter()
            .map(|a| match a {
                Node::Nest(NFTA_RULE_EXPRESSIONS, exprs) => Node::Nest(
                    NFTA_RULE_EXPRESSIONS,
                    exprs
                        .into_iter()
                        .map(|e| {
                            let Node::Nest(t, parts) = e else { return e };
                            let name = parts.iter().find_map(|p| match p {
                                Node::Leaf(1, n) => Some(n.clone()),
                                _ => None,
                            });
                            let drop = match name.as_deref() {
                                Some(b"lookup\0") => Some(4),
                                Some(b"dynset\0") => Some(2),
                                _ => None,
                            };
                            let parts = parts
                                .into_iter()
                                .map(|p| match (p, drop) {
                                    (Node::Nest(2, d), Some(k)) => Node::Nest(
                                        2,
                                        d.into_iter()
                                            .filter(|x| !matches!(x, Node::Leaf(t, _) if *t == k))
                                            .collect(),
                                    ),
                                    (p, _) => p,
                                })
                                .collect();
                            Node::Nest(t, parts)
                        })
                        .collect(),
                ),
                other => other,
            })
            .collect()
    } else {
        strip(attrs, ty, 0)
    };
    (ty, attrs)
}

fn golden_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/nftables/golden/representative.nft"
    ))
    .expect("golden nft file")
}

/// What nft 1.0.6 sent for the golden file (`nft --debug=mnl -f`, batch messages only).
fn nft_messages() -> Vec<(u16, Vec<Node>)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/nftables/golden/representative.mnl"
    ))
    .expect("golden mnl file");
    text.lines()
        .map(|l| {
            let mut p = l.split(' ');
            let _sub = p.next();
            let ty: u16 = p.next().unwrap().parse().unwrap();
            let bytes = unhex(p.next().unwrap());
            canonical(ty, &bytes)
        })
        .collect()
}

#[test]
fn the_golden_ruleset_compiles_to_nfts_own_messages() {
    let batch = compile(&golden_text(), 100, None).unwrap();
    let ours: Vec<(u16, Vec<Node>)> = messages(&batch.bytes)
        .iter()
        .filter(|m| m.ty >> 8 == NFNL_SUBSYS_NFTABLES)
        .map(|m| canonical(m.ty & 0xff, m.payload))
        .collect();
    let theirs = nft_messages();
    assert_eq!(ours.len(), theirs.len(), "message count");
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "message {i} (line {})", batch.lines[i]);
    }
}

#[test]
fn batch_is_framed_and_sequenced_with_lines() {
    let text = "add table ip t\nadd chain ip t c\n\nadd rule ip t c jump d\n";
    let b = compile(text, 7, Some(42)).unwrap();
    let m = messages(&b.bytes);
    assert_eq!(m.len(), 5);
    assert_eq!((m[0].ty, m[0].seq), (NFNL_MSG_BATCH_BEGIN, 7));
    assert_eq!(
        attr(&m[0].payload[4..], NFNL_BATCH_GENID).and_then(be_u32),
        Some(42)
    );
    assert_eq!((m[4].ty, m[4].seq), (NFNL_MSG_BATCH_END, 11));
    assert_eq!(b.line_of(8), 1);
    assert_eq!(b.line_of(10), 4);
    assert_eq!(m[3].flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND);
}

#[test]
fn the_anonymous_vmap_is_created_before_its_rule_and_shares_its_id() {
    let text = "add rule ip t c numgen random mod 2 vmap { 0 : goto a, 1 : goto b }\n";
    let b = compile(text, 1, None).unwrap();
    let m = messages(&b.bytes);
    let kinds: Vec<u16> = m.iter().map(|m| m.ty & 0xff).collect();
    assert_eq!(
        kinds[1..4],
        [NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE]
    );
    let set_id = attr(&m[1].payload[4..], NFTA_SET_ID).and_then(be_u32);
    let elem_id = attr(&m[2].payload[4..], NFTA_SET_ELEM_LIST_SET_ID).and_then(be_u32);
    assert!(set_id.is_some());
    assert_eq!(set_id, elem_id);
}

#[test]
fn a_prefix_inside_a_byte_is_masked_and_lines_name_their_error() {
    let b = compile(
        "add rule ip t c ip saddr != 10.240.0.0/12 return\n",
        1,
        None,
    )
    .unwrap();
    let hexed: String = b.bytes.iter().map(|x| format!("{x:02x}")).collect();
    // mask 255.240.0.0 and network 10.240.0.0, as nft sends them.
    assert!(hexed.contains("fff00000") && hexed.contains("0af00000"));
    let e = compile("add table ip t\nadd rule ip t c tcp flags syn\n", 1, None).unwrap_err();
    assert!(e.starts_with("line 2: "), "{e}");
    let e = compile("add element ip t s { 1.2.3.4 . bogus }\n", 1, None).unwrap_err();
    assert!(e.contains("bogus"), "{e}");
}

#[test]
fn a_long_element_list_is_split_into_messages_under_the_attribute_limit() {
    let items: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                "10.96.{}.{} . tcp . 80 : goto service-ABCDEFGH-namespace-{i}/a-rather-long-service-name/tcp/http",
                i / 250,
                i % 250
            )
        })
        .collect();
    let text = format!("add element ip t service-ips {{ {} }}\n", items.join(", "));
    let b = compile(&text, 1, None).unwrap();
    let m = messages(&b.bytes);
    let elems: Vec<usize> = m[1..m.len() - 1]
        .iter()
        .map(|m| {
            assert!(m.payload.len() < 65535);
            let list = attr(&m.payload[4..], NFTA_SET_ELEM_LIST_ELEMENTS).unwrap();
            attrs(list).len()
        })
        .collect();
    assert!(elems.len() > 1, "{elems:?}");
    assert_eq!(elems.iter().sum::<usize>(), 1000);
    assert!(b.lines.iter().all(|l| *l == 1));
}
