//! What a mutating command prints for each object it acted on: kubectl's
//! `deployment.apps/web created` line, with ` (dry run)` or ` (server dry run)` under
//! `--dry-run`; or, with `-o yaml|json|name|jsonpath=...`, the resulting object itself
//! (kubectl: `create -f x.yaml --dry-run=client -o yaml` prints the object).

use super::Ctx;
use crate::args::OutputFormat;
use crate::kinds::{object_name, object_name_of};
use crate::printers::render_objects;
use anyhow::Result;
use proto::KindInfo;
use proto::k8s::Object;
use std::cell::Cell;

pub struct Outcomes {
    format: Option<OutputFormat>,
    suffix: &'static str,
    /// Objects printed as documents so far: YAML documents after the first start with
    /// `---`, as kubectl's YAML printer writes them.
    printed: Cell<usize>,
}

impl Outcomes {
    pub fn new(ctx: &Ctx) -> Outcomes {
        Outcomes {
            format: ctx.output(),
            suffix: ctx.dry_run_suffix(),
            printed: Cell::new(0),
        }
    }

    /// For the command whose kubectl counterpart prints no dry-run suffix (`patch`).
    pub fn without_dry_run_suffix(mut self) -> Outcomes {
        self.suffix = "";
        self
    }

    /// Whether `-o` asks for documents (or names) rather than the message lines.
    pub fn prints_objects(&self) -> bool {
        !matches!(self.format, None | Some(OutputFormat::Wide))
    }

    /// `<kind>/<name> <verb>` (with the dry-run suffix), or the object in the `-o` form.
    pub fn object(&self, object: &Object, verb: &str) -> Result<()> {
        if self.document(object)? {
            return Ok(());
        }
        self.line(&object_name_of(object), verb);
        Ok(())
    }

    /// For commands that have no object to show (its kind and name are known): the message,
    /// or with `-o name` the name; other `-o` forms print nothing.
    pub fn named(&self, info: &KindInfo, name: &str, verb: &str) {
        match &self.format {
            Some(OutputFormat::Name) => emit(&format!("{}\n", object_name(info, name))),
            None | Some(OutputFormat::Wide) => self.line(&object_name(info, name), verb),
            Some(_) => {}
        }
    }

    /// `subject verb` with the dry-run suffix: for messages of other shapes
    /// (`deployment.apps "web" deleted`).
    pub fn line(&self, subject: &str, verb: &str) {
        emit(&format!("{subject} {verb}{}\n", self.suffix));
    }

    /// Prints the object in the `-o` form; false when `-o` asks for no document.
    fn document(&self, object: &Object) -> Result<bool> {
        let Some(format) = &self.format else {
            return Ok(false);
        };
        let shown = without_managed_fields(object);
        let Some(text) = render_objects(format, std::slice::from_ref(&shown))? else {
            return Ok(false);
        };
        let n = self.printed.get();
        if n > 0 && *format == OutputFormat::Yaml {
            emit(&format!("---\n{text}"));
        } else {
            emit(&text);
        }
        self.printed.set(n + 1);
        Ok(true)
    }
}

/// Writes to stdout; a reader that went away (`| head`) is no reason to panic.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The object as kubectl prints it after a change: `metadata.managedFields` is the
/// server's bookkeeping and kubectl leaves it out unless `--show-managed-fields`.
pub fn without_managed_fields(object: &Object) -> Object {
    let mut o = object.clone();
    o.meta_mut().managed_fields.clear();
    o
}
