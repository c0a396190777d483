"""Validates YAML files against a JSON Schema with Python `jsonschema` (independent of the
Rust `schemars` that wrote the schema). Usage: validate_schema.py SCHEMA.json FILE.yaml...
Prints {"FILE": null | "error text"} as JSON; exit 0 either way (the caller judges)."""
import json
import sys

import jsonschema
import yaml

schema = json.load(open(sys.argv[1]))
validator_class = jsonschema.validators.validator_for(schema)
assert validator_class is jsonschema.Draft202012Validator, validator_class
validator_class.check_schema(schema)
validator = validator_class(schema)
results = {}
for path in sys.argv[2:]:
    document = yaml.safe_load(open(path))
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.path))
    results[path] = "; ".join(error.message for error in errors) or None
print(json.dumps(results))
