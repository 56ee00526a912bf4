//! The files of the channel page and of the demo host page, embedded at build time, with
//! their content types.

const JS: &str = "text/javascript; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const FILES: &[(&str, &str, &str)] = &[
    ("index.html", HTML, include_str!("index.html")),
    ("panel.css", CSS, include_str!("panel.css")),
    ("app.js", JS, include_str!("app.js")),
    ("api.js", JS, include_str!("api.js")),
    ("cif.js", JS, include_str!("cif.js")),
    ("i18n.js", JS, include_str!("i18n.js")),
    ("numbers.js", JS, include_str!("numbers.js")),
    ("tabs.js", JS, include_str!("tabs.js")),
    ("pop.js", JS, include_str!("pop.js")),
    ("calllog.js", JS, include_str!("calllog.js")),
    ("callcard.js", JS, include_str!("callcard.js")),
    ("msdyn_ciLibrary.js", JS, include_str!("cilib.js")),
    ("crm.html", HTML, include_str!("crm.html")),
    ("crm.js", JS, include_str!("crm.js")),
];

/// The content type and body of an embedded file, by name.
pub(crate) fn get(name: &str) -> Option<(&'static str, &'static str)> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, mime, body)| (*mime, *body))
}
