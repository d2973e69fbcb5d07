"""The connector SDK: base class, HTTP toolkit, registry, errors, conformance kit."""
