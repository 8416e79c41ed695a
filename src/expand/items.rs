//! The table of expansion items with braced arguments (spec section
//! "Expansion items"). `if`, `lookup`, `extract`, `filter` and `run` have
//! their own grammar rules; the rest are described here.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemId {
    Acl,
    Authresults,
    Certextract,
    Dlfunc,
    Env,
    Hash,
    Hmac,
    Imapfolder,
    Length,
    Listextract,
    Listquote,
    Map,
    Nhash,
    Perl,
    Prvs,
    Prvscheck,
    Readfile,
    Readsocket,
    Reduce,
    Sg,
    Sort,
    SrsEncode,
    Substr,
    Tr,
}

pub struct ItemDef {
    pub name: &'static str,
    pub id: ItemId,
    pub min_args: usize,
    pub max_args: usize,
}

const fn def(name: &'static str, id: ItemId, min_args: usize, max_args: usize) -> ItemDef {
    ItemDef { name, id, min_args, max_args }
}

pub static ITEMS: &[ItemDef] = &[
    def("acl", ItemId::Acl, 1, 10),
    def("authresults", ItemId::Authresults, 1, 1),
    def("certextract", ItemId::Certextract, 2, 4),
    def("dlfunc", ItemId::Dlfunc, 2, 10),
    def("env", ItemId::Env, 1, 3),
    def("hash", ItemId::Hash, 2, 3),
    def("hmac", ItemId::Hmac, 3, 3),
    def("imapfolder", ItemId::Imapfolder, 1, 3),
    def("length", ItemId::Length, 2, 2),
    def("listextract", ItemId::Listextract, 2, 4),
    def("listquote", ItemId::Listquote, 2, 2),
    def("map", ItemId::Map, 2, 2),
    def("nhash", ItemId::Nhash, 2, 3),
    def("perl", ItemId::Perl, 1, 9),
    def("prvs", ItemId::Prvs, 2, 3),
    def("prvscheck", ItemId::Prvscheck, 2, 3),
    def("readfile", ItemId::Readfile, 1, 2),
    def("readsocket", ItemId::Readsocket, 2, 5),
    def("reduce", ItemId::Reduce, 3, 3),
    def("sg", ItemId::Sg, 3, 3),
    def("sort", ItemId::Sort, 3, 3),
    def("srs_encode", ItemId::SrsEncode, 3, 3),
    def("substr", ItemId::Substr, 2, 3),
    def("tr", ItemId::Tr, 3, 3),
];

pub fn find(name: &str) -> Option<&'static ItemDef> {
    ITEMS.binary_search_by(|d| d.name.cmp(name)).ok().map(|i| &ITEMS[i])
}

pub fn def_of(id: ItemId) -> &'static ItemDef {
    ITEMS.iter().find(|d| d.id == id).expect("every item id has a table entry")
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_is_sorted() {
        assert!(super::ITEMS.windows(2).all(|w| w[0].name < w[1].name));
    }
}
