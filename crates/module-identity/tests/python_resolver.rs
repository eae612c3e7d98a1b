//! Python-feature tests: real imports in an embedded interpreter, hints, synthetic code and
//! the `sys.modules` scan counter.
//!
//! All tests share one interpreter (and its `sys.path`/`sys.modules`) and run on threads, so
//! each takes a global lock and uses its own temporary directory and package-name prefix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::ffi::CString;
use std::sync::{Mutex, MutexGuard};

use codetracer_module_identity::{globals_name_hint, module_function_name, ModuleIdentityResolver};
use pyo3::prelude::*;
use pyo3::types::{PyCode, PyDict};
use tempfile::TempDir;

static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Builds a project under a fresh temp dir, imports it for real, and returns the globals of
/// the setup script (holding modules, paths and code objects).
const FIXTURE: &str = r#"
import importlib, os, py_compile, sys
def w(rel, text, base=None):
    path = os.path.join(base or root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path
def module_code(path):
    with open(path) as f:
        return compile(f.read(), path, "exec")
extra = os.path.join(root, "extra")
f_init = w(f"{p}pkg/__init__.py", "X = 1\n")
f_mod = w(f"{p}pkg/sub/mod.py", "def func():\n    return 1\n")
f_ns = w(f"{p}ns/inner.py", "def g():\n    return 2\n")
f_extra = w(f"{p}extmod.py", "def h():\n    return 3\n", extra)
f_legacy = w(f"{p}pkg/legacy.py", "def old():\n    return 4\n")
py_compile.compile(f_legacy, cfile=f_legacy + "c", doraise=True)
os.remove(f_legacy)
f_script = w("script.py", "print('hi')\n")
sys.path.insert(0, extra)
sys.path.insert(0, root)
importlib.invalidate_caches()
m_init = importlib.import_module(f"{p}pkg")
m_mod = importlib.import_module(f"{p}pkg.sub.mod")
m_ns = importlib.import_module(f"{p}ns.inner")
m_extra = importlib.import_module(f"{p}extmod")
m_legacy = importlib.import_module(f"{p}pkg.legacy")
assert m_legacy.__file__.endswith(".pyc"), m_legacy.__file__
pyc_mod = py_compile.compile(f_mod, doraise=True)
assert os.path.exists(pyc_mod), pyc_mod
"#;

struct Fixture<'py> {
    _dir: TempDir,
    g: Bound<'py, PyDict>,
    p: String,
}

impl<'py> Fixture<'py> {
    fn new(py: Python<'py>, prefix: &str) -> Self {
        let dir = TempDir::new().unwrap();
        let g = PyDict::new(py);
        g.set_item("root", dir.path().to_str().unwrap()).unwrap();
        g.set_item("p", prefix).unwrap();
        let fixture = Fixture {
            _dir: dir,
            g,
            p: prefix.to_owned(),
        };
        fixture.run(FIXTURE);
        fixture
    }

    fn run(&self, src: &str) {
        let src = CString::new(src).unwrap();
        self.g.py().run(&src, Some(&self.g), None).unwrap();
    }

    fn eval(&self, expr: &str) -> Bound<'py, PyAny> {
        let src = CString::new(expr).unwrap();
        self.g.py().eval(&src, Some(&self.g), None).unwrap()
    }

    fn code(&self, expr: &str) -> Bound<'py, PyCode> {
        self.eval(expr).cast_into::<PyCode>().unwrap()
    }

    fn string(&self, expr: &str) -> String {
        self.eval(expr).extract().unwrap()
    }

    /// `name` with this fixture's prefix.
    fn n(&self, name: &str) -> String {
        format!("{}{name}", self.p)
    }
}

impl Drop for Fixture<'_> {
    fn drop(&mut self) {
        self.run("sys.path.remove(root)\nsys.path.remove(extra)\n");
    }
}

#[test]
fn real_imports_resolve_from_sys_path_roots() {
    let _guard = lock();
    Python::attach(|py| {
        let fx = Fixture::new(py, "ra_");
        let mut r = ModuleIdentityResolver::from_sys_path(py).unwrap();
        let mut name = |code: &Bound<'_, PyCode>| r.resolve_for_code(py, code, None, None);

        assert_eq!(name(&fx.code("module_code(f_init)")), Some(fx.n("pkg")));
        assert_eq!(
            name(&fx.code("module_code(f_mod)")),
            Some(fx.n("pkg.sub.mod"))
        );
        assert_eq!(
            name(&fx.code("m_mod.func.__code__")),
            Some(fx.n("pkg.sub.mod"))
        );
        assert_eq!(name(&fx.code("module_code(f_ns)")), Some(fx.n("ns.inner")));
        assert_eq!(name(&fx.code("m_ns.g.__code__")), Some(fx.n("ns.inner")));
        assert_eq!(name(&fx.code("module_code(f_extra)")), Some(fx.n("extmod")));
        // Sourceless module: co_filename is the deleted source, `__file__` the legacy .pyc.
        assert_eq!(
            name(&fx.code("m_legacy.old.__code__")),
            Some(fx.n("pkg.legacy"))
        );

        let legacy_pyc = fx.string("m_legacy.__file__");
        assert_eq!(r.resolve_path(py, &legacy_pyc), Some(fx.n("pkg.legacy")));
        let cached_pyc = fx.string("pyc_mod");
        assert!(cached_pyc.contains("__pycache__"), "{cached_pyc}");
        assert_eq!(r.resolve_path(py, &cached_pyc), Some(fx.n("pkg.sub.mod")));
        // The path heuristics sufficed: `sys.modules` was never scanned.
        assert_eq!(r.sys_modules_scans(), 0);
    });
}

#[test]
fn sys_modules_is_scanned_once_per_unknown_module() {
    let _guard = lock();
    Python::attach(|py| {
        let fx = Fixture::new(py, "rb_");
        // No roots: every name must come from `sys.modules`.
        let mut r = ModuleIdentityResolver::new(Vec::new());
        assert_eq!(r.sys_modules_scans(), 0);

        let mod_code = fx.code("module_code(f_mod)");
        assert_eq!(
            r.resolve_for_code(py, &mod_code, None, None),
            Some(fx.n("pkg.sub.mod"))
        );
        assert_eq!(r.sys_modules_scans(), 1);
        // Same code object: per-code cache.
        assert_eq!(
            r.resolve_for_code(py, &mod_code, None, None),
            Some(fx.n("pkg.sub.mod"))
        );
        // Another code object of the same file: filename cache.
        let func_code = fx.code("m_mod.func.__code__");
        assert_eq!(
            r.resolve_for_code(py, &func_code, None, None),
            Some(fx.n("pkg.sub.mod"))
        );
        // Other modules imported before the scan come from the cached map.
        let ns_code = fx.code("module_code(f_ns)");
        assert_eq!(
            r.resolve_for_code(py, &ns_code, None, None),
            Some(fx.n("ns.inner"))
        );
        let init_code = fx.code("module_code(f_init)");
        assert_eq!(
            r.resolve_for_code(py, &init_code, None, None),
            Some(fx.n("pkg"))
        );
        // The sourceless module is indexed under its source path too.
        let legacy_code = fx.code("m_legacy.old.__code__");
        assert_eq!(
            r.resolve_for_code(py, &legacy_code, None, None),
            Some(fx.n("pkg.legacy"))
        );
        assert_eq!(r.sys_modules_scans(), 1);

        // Unknown file, `sys.modules` unchanged: no rescan.
        assert_eq!(r.resolve_path(py, "/nonexistent/zzz_unknown.py"), None);
        assert_eq!(r.sys_modules_scans(), 1);

        // A new import changes `len(sys.modules)`: exactly one rescan finds it.
        fx.run("f_late = w(f'{p}pkg/late.py', 'Y = 2\\n')\nm_late = importlib.import_module(f'{p}pkg.late')\n");
        let late = fx.string("f_late");
        assert_eq!(r.resolve_path(py, &late), Some(fx.n("pkg.late")));
        assert_eq!(r.sys_modules_scans(), 2);
        assert_eq!(r.resolve_path(py, &late), Some(fx.n("pkg.late")));
        assert_eq!(r.resolve_path(py, "/nonexistent/zzz_unknown.py"), None);
        assert_eq!(r.sys_modules_scans(), 2);

        r.clear();
        assert_eq!(r.resolve_path(py, &late), Some(fx.n("pkg.late")));
        assert_eq!(r.sys_modules_scans(), 3);
    });
}

#[test]
fn main_script_and_dash_m_use_the_globals_hint() {
    let _guard = lock();
    Python::attach(|py| {
        let fx = Fixture::new(py, "rc_");
        fx.run(concat!(
            "import runpy, contextlib, io\n",
            "with contextlib.redirect_stdout(io.StringIO()):\n",
            "    script_globals = runpy.run_path(f_script, run_name='__main__')\n",
            "dash_m_globals = runpy.run_module(f'{p}pkg.sub.mod', run_name='__main__')\n",
        ));
        let script_globals = fx.eval("script_globals").cast_into::<PyDict>().unwrap();
        let dash_m_globals = fx.eval("dash_m_globals").cast_into::<PyDict>().unwrap();
        let script_hint = globals_name_hint(py, &script_globals);
        let dash_m_hint = globals_name_hint(py, &dash_m_globals);
        assert_eq!(script_hint.as_deref(), Some("__main__"));
        assert_eq!(dash_m_hint, Some(fx.n("pkg.sub.mod")));

        let mut r = ModuleIdentityResolver::from_sys_path(py).unwrap();
        let script = fx.code("module_code(f_script)");
        let name = r.resolve_for_code(py, &script, script_hint.as_deref(), None);
        assert_eq!(name.as_deref(), Some("__main__"));
        assert_eq!(module_function_name(name.as_deref()), "<__main__>");
        let dash_m = fx.code("module_code(f_mod)");
        let name = r.resolve_for_code(py, &dash_m, dash_m_hint.as_deref(), None);
        assert_eq!(name, Some(fx.n("pkg.sub.mod")));

        // Without a hint the script is named from its path (its directory is a root).
        let mut fresh = ModuleIdentityResolver::from_sys_path(py).unwrap();
        let script = fx.code("module_code(f_script)");
        assert_eq!(
            fresh.resolve_for_code(py, &script, None, None).as_deref(),
            Some("script")
        );
    });
}

#[test]
fn globals_hint_reads_only_real_module_specs() {
    let _guard = lock();
    Python::attach(|py| {
        let fx = Fixture::new(py, "rd_");
        fx.run(concat!(
            "import types\n",
            "touched = []\n",
            "class ModuleSpec:\n",
            "    @property\n",
            "    def name(self):\n",
            "        touched.append(1)\n",
            "        return 'evil'\n",
            "fake = {'__spec__': ModuleSpec(), '__name__': 'plain'}\n",
            "ns_spec = {'__spec__': types.SimpleNamespace(name='evil'), '__name__': 'plain'}\n",
            "none_spec = {'__spec__': None, '__name__': 'plain'}\n",
            "real = {'__spec__': importlib.util.spec_from_loader('a.b', None), '__name__': 'x'}\n",
            "bad_name = {'__spec__': importlib.util.spec_from_loader('a.b', None)}\n",
            "bad_name['__spec__'].name = 7\n",
            "non_str = {'__name__': 3}\n",
            "empty = {}\n",
        ));
        let hint =
            |expr: &str| globals_name_hint(py, &fx.eval(expr).cast_into::<PyDict>().unwrap());
        assert_eq!(hint("fake").as_deref(), Some("plain"));
        assert_eq!(fx.eval("len(touched)").extract::<usize>().unwrap(), 0);
        assert_eq!(hint("ns_spec").as_deref(), Some("plain"));
        assert_eq!(hint("none_spec").as_deref(), Some("plain"));
        assert_eq!(hint("real").as_deref(), Some("a.b"));
        assert_eq!(hint("bad_name"), None);
        assert_eq!(hint("non_str"), None);
        assert_eq!(hint("empty"), None);
    });
}

#[test]
fn known_names_and_hints_are_validated() {
    let _guard = lock();
    Python::attach(|py| {
        let fx = Fixture::new(py, "re_");
        let mut r = ModuleIdentityResolver::from_sys_path(py).unwrap();
        let fresh = || fx.code("module_code(f_mod)");
        // A known name wins over the hint and the path.
        assert_eq!(
            r.resolve_for_code(py, &fresh(), Some("hinted"), Some("known.name"))
                .as_deref(),
            Some("known.name")
        );
        // Invalid known name: the hint is used.
        assert_eq!(
            r.resolve_for_code(py, &fresh(), Some("hinted"), Some("my-pkg"))
                .as_deref(),
            Some("hinted")
        );
        // Invalid hint: the path decides.
        assert_eq!(
            r.resolve_for_code(py, &fresh(), Some("1bad"), None),
            Some(fx.n("pkg.sub.mod"))
        );
        // The per-code cache answers first, whatever is passed later.
        let code = fresh();
        let first = r.resolve_for_code(py, &code, None, None);
        assert_eq!(
            r.resolve_for_code(py, &code, Some("other"), Some("x")),
            first
        );
    });
}

#[test]
fn synthetic_and_frozen_code_has_no_name() {
    let _guard = lock();
    Python::attach(|py| {
        let fx = Fixture::new(py, "rf_");
        fx.run(concat!(
            "import importlib._bootstrap as bootstrap\n",
            "string_code = compile('x = 1', '<string>', 'exec')\n",
            "frozen_code = bootstrap._find_and_load.__code__\n",
        ));
        assert_eq!(
            fx.string("frozen_code.co_filename"),
            "<frozen importlib._bootstrap>"
        );
        let mut r = ModuleIdentityResolver::from_sys_path(py).unwrap();
        for expr in ["string_code", "frozen_code"] {
            let code = fx.code(expr);
            assert_eq!(
                r.resolve_for_code(py, &code, Some("__main__"), Some("pkg")),
                None
            );
        }
        assert_eq!(r.resolve_path(py, "<stdin>"), None);
        assert_eq!(r.resolve_path(py, "<frozen os>"), None);
        assert_eq!(module_function_name(None), "<module>");
        assert_eq!(r.sys_modules_scans(), 0);
    });
}

#[test]
fn cached_code_objects_are_kept_alive() {
    let _guard = lock();
    Python::attach(|py| {
        let fx = Fixture::new(py, "rg_");
        let mut r = ModuleIdentityResolver::from_sys_path(py).unwrap();
        fx.run("cc = module_code(f_mod)");
        let refs = || fx.eval("sys.getrefcount(cc)").extract::<isize>().unwrap();
        let code = fx.code("cc");
        let before = refs();
        r.resolve_for_code(py, &code, None, None);
        assert_eq!(refs(), before + 1);
        r.clear();
        assert_eq!(refs(), before);
        assert!(format!("{r:?}").contains("ModuleIdentityResolver"));
    });
}
