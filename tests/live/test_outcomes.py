"""Every row of the README's "What the hook answers", with real hook processes."""

from conftest import EP, NET

JOIN = {"NetworkID": NET, "EndpointID": EP}


def call_join(host):
    return host.call("/NetworkDriver.Join", JOIN)


def test_exit_zero_white_space_gives_the_default(start, hooks):
    hooks.add("EndpointOperInfo", "cat >/dev/null; printf ' \\n\\t\\n'\n")
    r = start().call("/NetworkDriver.EndpointOperInfo", JOIN)
    assert (r.status, r.json) == (200, {"Value": {}})


def test_exit_zero_valid_object(start, hooks):
    answer = {"InterfaceName": {"SrcName": "veth1", "DstPrefix": "eth"}, "Gateway": "10.0.0.1",
              "StaticRoutes": [{"Destination": "10.1.0.0/16", "RouteType": 0, "NextHop": "10.0.0.9"}]}
    hooks.answer("Join", answer)
    r = call_join(start())
    assert (r.status, r.json) == (200, answer)


def test_exit_zero_with_err_is_500(start, hooks):
    hooks.answer("Join", {"Err": "bridge br-x is gone"})
    assert (lambda r: (r.status, r.json))(call_join(start())) == (500, {"Err": "bridge br-x is gone"})


def test_ipam_error_field_is_500(start, hooks):
    hooks.answer("ipam/RequestAddress", {"Error": "pool 10.0.0.0/30 is exhausted"})
    r = start().call("/IpamDriver.RequestAddress", {"PoolID": "p1"})
    assert (r.status, r.json) == (500, {"Err": "pool 10.0.0.0/30 is exhausted"})


def test_nonzero_exit_messages(start, hooks):
    host = start()
    hooks.add("Join", "cat >/dev/null; echo '{\"Err\": \"from stdout\"}'; echo 'from stderr' >&2; exit 2\n")
    assert (lambda r: (r.status, r.json))(call_join(host)) == (500, {"Err": "from stdout"})
    hooks.add("Join", "cat >/dev/null; echo 'not json'; printf 'ip: bad\\nRTNETLINK answers: File exists\\n\\n' >&2; exit 2\n")
    assert call_join(host).json == {"Err": "RTNETLINK answers: File exists"}
    hooks.add("Join", "cat >/dev/null; exit 7\n")
    assert call_join(host).json == {"Err": "hook Join exited with status 7"}


def test_killed_by_signal(start, hooks):
    hooks.add("Join", "cat >/dev/null; kill -9 $$\n")
    r = call_join(start())
    assert (r.status, r.json) == (500, {"Err": "hook Join killed by signal 9"})


def test_timeout(start, hooks):
    hooks.add("Join", "cat >/dev/null; sleep 30\n")
    r = call_join(start("--timeout", "1"))
    assert (r.status, r.json) == (500, {"Err": "hook Join timed out after 1 s"})


def test_bad_outputs_name_hook_and_place(start, hooks):
    host = start()
    cases = {
        '{"Gateway": }': "hook Join printed invalid JSON at line 1, column",
        '[1, 2]': "hook Join printed an array, but the answer must be a JSON object",
        '"text"': "must be a JSON object",
        '{"Gateway": "10.0.0.1"} {"x": 1}': "invalid JSON",
        '{"Gateway": "10.0.0.1"} trailing': "invalid JSON",
        '{"Gateway": "10.0.0.1", "Gateway": "10.0.0.2"}': "duplicate",
        '{"Gateway": "10.0.0.1/24"}': "hook Join answered badly: Gateway \"10.0.0.1/24\" is not a plain IP address",
        '{"InterfaceName": {"SrcName": 5}}': "InterfaceName.SrcName must be a string",
        '{"StaticRoutes": [{"Destination": "10.1.0.0", "RouteType": 1}]}': "StaticRoutes[0].Destination",
    }
    for printed, expected in cases.items():
        hooks.add("Join", "cat >/dev/null\ncat <<'EOF'\n" + printed + "\nEOF\n")
        r = call_join(host)
        assert r.status == 500 and expected in r.err, (printed, r)


def test_capabilities_scope_is_checked(start, hooks):
    hooks.answer("GetCapabilities", {"Scope": "galaxy"})
    r = start().call("/NetworkDriver.GetCapabilities")
    assert r.status == 500 and 'Scope "galaxy" must be "local" or "global"' in r.err


def test_keys_match_case_insensitively(start, hooks):
    hooks.answer("Join", {"gateway": "10.0.0.1/24"})
    r = call_join(start())
    assert r.status == 500 and "Gateway" in r.err


def test_stdout_over_one_mib(start, hooks):
    hooks.add("Join", "cat >/dev/null; head -c 5242880 /dev/zero | tr '\\0' 'x'\n")
    r = call_join(start())
    assert r.status == 500 and "more than 1 MiB" in r.err


def test_hook_error_text_is_verbatim_including_unicode(start, hooks):
    hooks.add("CreateNetwork", "cat >/dev/null; echo 'Réseau « bleu »: option mtu=abc is not a number' >&2; exit 1\n")
    r = start().call("/NetworkDriver.CreateNetwork", {"NetworkID": NET})
    assert r.json == {"Err": "Réseau « bleu »: option mtu=abc is not a number"}


def test_stderr_is_logged_line_by_line(start, hooks):
    hooks.add("Join", "cat >/dev/null; echo 'first line' >&2; echo 'second line' >&2\n")
    host = start()
    call_join(host)
    log = host.read_log()
    assert "first line" in log and "second line" in log
    call_line = [l for l in log.splitlines() if "call.method=NetworkDriver.Join" in l][0]
    assert "hook=Join" in call_line and "http.status=200" in call_line and "network=aaaaaaaaaaaa" in call_line.split()
