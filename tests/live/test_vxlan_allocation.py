"""examples/vxlan's manager side, served by the real host without a swarm: AllocateNetwork
picks distinct VXLAN ids and hands them on, FreeNetwork gives them back, options are checked."""
import os
import shutil

from conftest import ROOT, Hooks, Host

NETS = ["%064x" % n for n in range(1, 6)]


def allocate(host, network, **options):
    return host.call("/NetworkDriver.AllocateNetwork", {"NetworkID": network, "Options": options,
                                                        "IPv4Data": [{"Pool": "10.253.1.0/24", "Gateway": "10.253.1.1/24"}]})


def test_allocate_picks_distinct_ids_honours_the_option_and_free_gives_them_back(workdir):
    folder = os.path.join(workdir, "vxlan")
    shutil.copytree(os.path.join(ROOT, "examples", "vxlan"), folder)
    host = Host(workdir, Hooks(folder))
    try:
        assert host.call("/NetworkDriver.GetCapabilities").json == {"Scope": "global", "ConnectivityScope": "global"}
        r = allocate(host, NETS[0])
        assert (r.status, r.json) == (200, {"Options": {"vni": "256"}}), r
        assert allocate(host, NETS[1]).json == {"Options": {"vni": "257"}}
        # Asked again for the same network (a retry): the same id, not a new one.
        assert allocate(host, NETS[1]).json == {"Options": {"vni": "257"}}
        assert allocate(host, NETS[2], vni="300", mtu="1400").json == {"Options": {"vni": "300", "mtu": "1400"}}
        r = allocate(host, NETS[3], vni="300")
        assert r.status == 500 and "option vni=300: network 000000000000 already uses that VXLAN id" in r.err, r
        r = allocate(host, NETS[3], vni="5000")
        assert r.status == 500 and "option vni=5000 is out of range" in r.err, r
        r = allocate(host, NETS[3], vnid="5")
        assert r.status == 500 and "unknown option -o vnid" in r.err, r
        assert host.call("/NetworkDriver.FreeNetwork", {"NetworkID": NETS[0]}).status == 200
        assert allocate(host, NETS[4]).json == {"Options": {"vni": "256"}}
        assert sorted(os.listdir(os.path.join(host.state, "vni"))) == ["256", "257", "300"]
    finally:
        host.stop()
