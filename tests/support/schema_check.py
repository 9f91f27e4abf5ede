"""JSON Schema validation for the tests, with Debian's python3-jsonschema: imported when this
Python has it, else run by /usr/bin/python3 (the Debian interpreter the package installs into)."""
import json
import subprocess

try:
    import jsonschema
except ImportError:  # a Python without Debian's packages (pyenv, a venv)
    jsonschema = None

_SCRIPT = """
import json, sys, jsonschema
schema, instance = json.load(open(sys.argv[1])), json.loads(sys.stdin.read())
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(instance), key=str)
print("\\n".join(e.message for e in errors))
"""


def schema_errors(schema_path, instance):
    """The messages of every way `instance` breaks the schema; [] when it is valid."""
    if jsonschema is not None:
        with open(schema_path) as f:
            schema = json.load(f)
        return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(instance)]
    out = subprocess.run(["/usr/bin/python3", "-c", _SCRIPT, schema_path], input=json.dumps(instance),
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]
