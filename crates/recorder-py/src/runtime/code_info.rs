//! [`CodeInfo`]: what the recorder needs to know about one code object, computed once at its
//! first sighting and cached (keyed by address, keeping the code object alive so the address
//! cannot be reused by another code object while the entry exists) — including, for `trace.ct`
//! steps, the column of the statement each instruction starts ([`CodeInfo::column_at`]).

use std::path::PathBuf;

use codetracer_trace_filter::ValueAction;
use codetracer_trace_stream::types::{FunctionId, PathId, VariableId};
use pyo3::prelude::*;
use pyo3::types::{PyCode, PyString, PyTuple};

use crate::errors::RecorderFailure;
use crate::runtime::ffi_str::escaped_text;
use codetracer_trace_stream::TraceWriter;

/// CPython `co_flags` bits we read.
const CO_VARARGS: u32 = 0x04;
const CO_VARKEYWORDS: u32 = 0x08;

/// One variable the recorder reads: its name object (for `PyFrame_GetVar` / dict lookups)
/// and its trace id once assigned.
pub struct VarSlot {
    /// The interned name object.
    pub name: Py<PyString>,
    /// The name as text.
    pub text: String,
    /// The trace's `VariableId`, assigned on first use in a recording.
    pub id: Option<VariableId>,
    /// What the filters say about this variable's value.
    pub action: ValueAction,
}

/// Cached facts about one code object.
pub struct CodeInfo {
    /// Keeps the code object (and so its address, our key) alive.
    pub code: Py<PyCode>,
    /// Whether the scope decision says to record this code.
    pub traced: bool,
    /// `co_filename` as text (lone surrogates of a name that is not UTF-8 escaped, `\udce9`).
    pub filename: String,
    /// `co_filename` as the file system path it names (the bytes of the name).
    pub file_path: PathBuf,
    /// `co_qualname`.
    pub qualname: String,
    /// `co_firstlineno`.
    pub first_line: i64,
    /// Whether this is module-level code (`<module>`).
    pub is_module: bool,
    /// Locals in `co_varnames`, `co_cellvars`, `co_freevars` order (deduplicated).
    pub locals: Vec<VarSlot>,
    /// Indices into `locals` of the parameters, in signature order
    /// (positional, `*args`, keyword-only, `**kwargs`).
    pub params: Vec<usize>,
    /// `co_names` that may name globals (dunder names left out).
    pub globals: Vec<VarSlot>,
    /// The trace's `PathId`, once declared.
    pub path_id: Option<PathId>,
    /// The trace's `FunctionId`, once declared.
    pub function_id: Option<FunctionId>,
    /// Whether LINE/return local events were enabled for this code.
    pub local_events_on: bool,
    /// Whether this code's file is the activation path.
    pub is_activation_file: bool,
    /// The `Function` name (`co_qualname`, or `<dotted.module>` for module code), once known.
    pub function_name: Option<String>,
    /// The dotted module name of this code, when known.
    pub module: Option<String>,
    /// What the filters say about this code's return values.
    pub return_action: ValueAction,
    /// Per code unit (2 bytes of bytecode): the 0-based column a LINE event there reports —
    /// the leftmost start column of the instructions from there to the end of the line's
    /// run (the statement's start, not its first operand). Empty unless read.
    pub columns: Vec<u32>,
    /// The last line any instruction of this code is on (a line-table size hint).
    pub max_line: u32,
    /// Indices into `locals` of the variables the filters hide (redact or drop).
    pub hidden_locals: Vec<usize>,
    /// Indices into `globals` of the variables the filters hide.
    pub hidden_globals: Vec<usize>,
    /// The scope's attribute fingerprint (see `Out::attrs_token`).
    pub attrs_token: u64,
}

fn names<'py>(code: &Bound<'py, PyCode>, attr: &str) -> PyResult<Vec<Bound<'py, PyString>>> {
    let tuple = code.getattr(attr)?;
    let tuple = tuple.cast::<PyTuple>()?;
    tuple
        .iter()
        .map(|n| n.cast_into::<PyString>().map_err(Into::into))
        .collect()
}

fn slot(name: Bound<'_, PyString>) -> PyResult<VarSlot> {
    Ok(VarSlot {
        text: name.to_str()?.to_owned(),
        name: name.unbind(),
        id: None,
        action: ValueAction::Allow,
    })
}

impl CodeInfo {
    /// Reads the facts of `code` the scope decision needs (attribute reads on a code object:
    /// no user code runs); the variables are read by [`CodeInfo::read_variables`], for
    /// recorded code only (skipped code is most code objects, e.g. all of pytest's).
    pub fn inspect(code: &Bound<'_, PyCode>) -> PyResult<Self> {
        let file = code.getattr("co_filename")?;
        let filename = escaped_text(file.cast::<PyString>()?)?;
        let file_path: PathBuf = file.extract().unwrap_or_else(|_| PathBuf::from(&filename));
        let qualname = escaped_text(code.getattr("co_qualname")?.cast::<PyString>()?)?;
        let first_line: i64 = code.getattr("co_firstlineno")?.extract()?;
        Ok(Self {
            code: code.clone().unbind(),
            traced: false,
            is_module: qualname == "<module>",
            filename,
            file_path,
            qualname,
            first_line,
            locals: Vec::new(),
            params: Vec::new(),
            globals: Vec::new(),
            path_id: None,
            function_id: None,
            local_events_on: false,
            is_activation_file: false,
            function_name: None,
            module: None,
            return_action: ValueAction::Allow,
            hidden_locals: Vec::new(),
            hidden_globals: Vec::new(),
            attrs_token: 0,
            columns: Vec::new(),
            max_line: u32::try_from(first_line.max(1)).unwrap_or(u32::MAX),
        })
    }

    /// Reads the locals (with the parameters' positions) and the global names of the code.
    pub fn read_variables(&mut self, py: Python<'_>) -> PyResult<()> {
        let code = self.code.bind(py);
        let flags: u32 = code.getattr("co_flags")?.extract()?;
        let argcount: usize = code.getattr("co_argcount")?.extract()?;
        let kwonly: usize = code.getattr("co_kwonlyargcount")?.extract()?;

        let mut locals: Vec<VarSlot> = Vec::new();
        for attr in ["co_varnames", "co_cellvars", "co_freevars"] {
            for name in names(code, attr)? {
                let text = name.to_str()?;
                if !locals.iter().any(|s| s.text == text) {
                    locals.push(slot(name)?);
                }
            }
        }
        // co_varnames starts with: positional (argcount), keyword-only (kwonly), then
        // *args, then **kwargs.
        let mut params: Vec<usize> = (0..argcount).collect();
        let mut next = argcount + kwonly;
        if flags & CO_VARARGS != 0 {
            params.push(next);
            next += 1;
        }
        params.extend(argcount..argcount + kwonly);
        if flags & CO_VARKEYWORDS != 0 {
            params.push(next);
        }
        params.retain(|i| *i < locals.len());

        let mut globals = Vec::new();
        for name in names(code, "co_names")? {
            let text = name.to_str()?;
            if text.starts_with("__") && text.ends_with("__") {
                continue;
            }
            if !locals.iter().any(|s| s.text == text)
                && !globals.iter().any(|s: &VarSlot| s.text == text)
            {
                globals.push(slot(name)?);
            }
        }
        self.locals = locals;
        self.params = params;
        self.globals = globals;
        Ok(())
    }

    /// Notes which variables the filters hide, once their actions are set.
    pub fn note_hidden(&mut self) {
        let hidden = |slots: &[VarSlot]| {
            slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.action != ValueAction::Allow)
                .map(|(i, _)| i)
                .collect()
        };
        self.hidden_locals = hidden(&self.locals);
        self.hidden_globals = hidden(&self.globals);
    }

    /// Reads `co_positions()` (a method of code objects: no user code runs) into
    /// [`Self::columns`] and [`Self::max_line`]. A code object whose positions cannot be read
    /// keeps column 0 everywhere.
    pub fn read_positions(&mut self, code: &Bound<'_, PyCode>) {
        let mut units: Vec<(Option<i64>, Option<i64>)> = Vec::new();
        let read = (|| -> PyResult<()> {
            for item in code.call_method0("co_positions")?.try_iter()? {
                let (line, _end, column, _end_column): (
                    Option<i64>,
                    Option<i64>,
                    Option<i64>,
                    Option<i64>,
                ) = item?.extract()?;
                units.push((line, column));
            }
            Ok(())
        })();
        if read.is_err() {
            return;
        }
        let mut columns = vec![0u32; units.len()];
        let mut run: Option<(Option<i64>, Option<i64>)> = None; // (line, leftmost column)
        for (i, &(line, column)) in units.iter().enumerate().rev() {
            let leftmost = match run {
                Some((l, left)) if l == line => match (left, column) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
                _ => column,
            };
            run = Some((line, leftmost));
            columns[i] = leftmost.and_then(|c| u32::try_from(c).ok()).unwrap_or(0);
            if let Some(l) = line.and_then(|l| u32::try_from(l).ok()) {
                self.max_line = self.max_line.max(l);
            }
        }
        self.columns = columns;
    }

    /// The column of a LINE event at byte offset `lasti` (0 when unknown).
    #[inline]
    pub fn column_at(&self, lasti: i32) -> u32 {
        usize::try_from(lasti / 2)
            .ok()
            .and_then(|i| self.columns.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Forgets the ids of the trace that ended (path, function, variables), so the next trace
    /// of a series declares them in its own tables; everything else is kept.
    pub fn forget_trace_ids(&mut self) {
        self.path_id = None;
        self.function_id = None;
        for s in self.locals.iter_mut().chain(self.globals.iter_mut()) {
            s.id = None;
        }
    }

    /// Assigns trace ids to every variable name of this code (once per recording).
    pub fn ensure_variable_ids(&mut self, rec: &mut TraceWriter) -> Result<(), RecorderFailure> {
        for s in self.locals.iter_mut().chain(self.globals.iter_mut()) {
            if s.id.is_none() {
                s.id = Some(rec.variable_id(&s.text)?);
            }
        }
        Ok(())
    }
}
