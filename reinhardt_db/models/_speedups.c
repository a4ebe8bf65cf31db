/*
 * reinhardt_db.models._speedups: blank model instances for the row readers.
 *
 * The readers (models/_iterables.py) fill instances with plain attribute
 * stores, which CPython specialises; what is left of a row's cost is making
 * the instance. ``object.__new__(cls)`` goes through a wrapper that packs its
 * arguments into a tuple and walks the class's bases on every call; calling
 * object's ``tp_new`` slot directly does the same work (abstract-class check,
 * allocation, the instance's attribute storage) without that. ``blank`` also
 * makes the whole result list in one call.
 *
 * Optional: setup.py builds it where a C compiler is available, and
 * models/_instances.py falls back to the same functions in Python. Only the
 * public C API is used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *empty_args; /* object's tp_new takes (args, kwds); a model needs none */

/* 0 when instances of ``cls`` can be made by object's tp_new, else -1 with TypeError set. */
static int
check_class(PyObject *cls)
{
    if (!PyType_Check(cls)) {
        PyErr_Format(PyExc_TypeError, "expected a class, got %.200s", Py_TYPE(cls)->tp_name);
        return -1;
    }
    /* Classes written in Python over object only: a C base (dict, int, ...) has
     * a layout object's tp_new does not know how to set up. */
    PyTypeObject *base = (PyTypeObject *)cls;
    while (base != NULL && (base->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        base = base->tp_base;
    }
    if (base != &PyBaseObject_Type) {
        PyErr_Format(PyExc_TypeError,
                     "%.200s has a base class written in C (%.200s): its instances "
                     "cannot be made by object.__new__",
                     ((PyTypeObject *)cls)->tp_name, base == NULL ? "?" : base->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *
speedups_new(PyObject *module, PyObject *cls)
{
    if (check_class(cls) < 0) {
        return NULL;
    }
    return PyBaseObject_Type.tp_new((PyTypeObject *)cls, empty_args, NULL);
}

static PyObject *
speedups_blank(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "blank() takes 2 arguments (cls, count), got %zd", nargs);
        return NULL;
    }
    PyObject *cls = args[0];
    if (check_class(cls) < 0) {
        return NULL;
    }
    Py_ssize_t count = PyNumber_AsSsize_t(args[1], PyExc_OverflowError);
    if (count == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (count < 0) {
        PyErr_Format(PyExc_ValueError, "blank() count must be >= 0, got %zd", count);
        return NULL;
    }
    newfunc make = PyBaseObject_Type.tp_new;
    PyObject *out = PyList_New(count);
    if (out == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *obj = make((PyTypeObject *)cls, empty_args, NULL);
        if (obj == NULL) {
            Py_DECREF(out); /* the slots not yet filled are NULL, which list_dealloc skips */
            return NULL;
        }
        PyList_SET_ITEM(out, i, obj);
    }
    return out;
}

static PyMethodDef speedups_methods[] = {
    {"new", speedups_new, METH_O,
     "new(cls) -> a blank instance of cls, as object.__new__(cls)."},
    {"blank", (PyCFunction)(void (*)(void))speedups_blank, METH_FASTCALL,
     "blank(cls, count) -> a list of count blank instances of cls."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "reinhardt_db.models._speedups",
    "Blank model instances for the row readers (C).", -1, speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    empty_args = PyTuple_New(0);
    if (empty_args == NULL) {
        return NULL;
    }
    return PyModule_Create(&speedups_module);
}
