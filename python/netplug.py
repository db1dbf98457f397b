"""netplug: a resident hook for netplug-host, in Python (standard library only).

A resident hook is started once and answers many calls, so a driver pays for Python's
start-up and its imports once, and may keep state in memory. Name the file `resident.py`
in the hooks folder (NetworkDriver methods) or in its `ipam/` folder (IpamDriver methods),
make it executable, and end it with `netplug.serve`:

    #!/usr/bin/env python3
    import netplug

    def join(request, env):
        return {"InterfaceName": {"SrcName": "veth" + request["EndpointID"][:7], "DstPrefix": "eth"}}

    netplug.serve({"Join": join})

A handler gets the checked request (a dict) and `env`, the variables a hook of its own would
have had (NETPLUG_METHOD, NETPLUG_NETWORK_ID, NETPLUG_NETWORK_FILE, ...). It returns the
answer (a dict), or None for netplug-host's default answer, or raises `netplug.Error("a
sentence for the user")`. Methods without a handler get the default too. Print what you
like on stderr: netplug-host logs it under the call.
"""
import json
import sys
import traceback

__all__ = ["Error", "serve"]

PROTOCOL = 1


class Error(Exception):
    """A refusal: its text reaches Docker, and the user sees it."""


def serve(handlers, stdin=None, stdout=None):
    """Answers netplug-host's calls until it closes stdin, then returns.

    `handlers` maps method names (`"Join"`, or in full `"NetworkDriver.Join"`) to functions
    of (request, env)."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    table = {}
    for name, handler in handlers.items():
        if not callable(handler):
            raise TypeError(f"netplug.serve: the handler for {name!r} is not a function")
        table[name] = handler
    _write(stdout, {"netplug": PROTOCOL})
    for line in stdin:
        if not line.strip():
            continue
        call = json.loads(line)
        reply = _answer(table, call)
        try:
            data = json.dumps(reply, separators=(",", ":"))
        except (TypeError, ValueError) as error:
            data = json.dumps({"id": call["id"], "error": f"{call.get('method')}: the answer is not JSON: {error}"})
        stdout.write(data.encode() + b"\n")
        stdout.flush()


def _answer(table, call):
    """The answer line for one call line."""
    reply = {"id": call["id"]}
    method = call.get("method", "")
    handler = table.get(method) or table.get(method.split(".", 1)[-1])
    if handler is None:
        return reply  # the default
    try:
        answer = handler(call.get("request", {}), call.get("env", {}))
    except Error as error:
        reply["error"] = str(error) or f"{method} failed"
        return reply
    except Exception as error:  # a bug in the handler: the call fails, the driver stays
        traceback.print_exc(file=sys.stderr)
        reply["error"] = f"{method} failed: {type(error).__name__}: {error}"
        return reply
    if answer is not None:
        reply["answer"] = answer
    return reply


def _write(stdout, message):
    stdout.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    stdout.flush()
