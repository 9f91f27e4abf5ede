"""The Debian package: built with CPack from this build, installed with dpkg on this machine,
its unit verified with systemd-analyze, its shipped configuration accepted by
`casemaild --check-config`, then removed and purged cleanly. Needs root (dpkg); the CI machine
runs it. An existing casemail installation is never touched: the test skips."""
import glob
import os
import shutil
import subprocess
import unittest

BUILD = os.environ.get("CASEMAIL_BUILD_DIR", "")
UNIT = "/usr/lib/systemd/system/casemaild.service"


def run(*cmd, check=True):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


class PackageTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("dpkg -i needs root")
        if not shutil.which("dpkg") or not shutil.which("cpack"):
            self.skipTest("needs dpkg and cpack")
        if run("dpkg-query", "-W", "-f=${Status}", "casemail", check=False).stdout.startswith("install ok"):
            self.skipTest("casemail is installed on this machine: not touching it")

    def test_install_verify_check_config_remove_purge(self):
        out = os.path.join(BUILD, "package-test")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        run("cpack", "-G", "DEB", "-B", out, "--config", os.path.join(BUILD, "CPackConfig.cmake"))
        debs = glob.glob(os.path.join(out, "casemail_*_amd64.deb")) + glob.glob(os.path.join(out, "casemail_*.deb"))
        self.assertTrue(debs, os.listdir(out))
        deb = debs[0]
        self.addCleanup(lambda: run("dpkg", "--purge", "casemail", check=False))
        info = run("dpkg-deb", "-I", deb).stdout
        self.assertIn("Depends: tzdata", info)
        self.assertIn("libsqlite3-0", info)  # from dpkg-shlibdeps
        run("dpkg", "-i", deb)

        for path in ("/usr/bin/casemaild", "/usr/bin/casemail", UNIT, "/usr/lib/systemd/system/casemail-maintenance.timer",
                     "/usr/lib/sysusers.d/casemail.conf", "/usr/lib/tmpfiles.d/casemail.conf",
                     "/usr/share/doc/casemail/README.md", "/usr/share/doc/casemail/examples/casemail.toml",
                     "/etc/casemail/casemail.toml"):
            self.assertTrue(os.path.exists(path), path)
        self.assertTrue(os.path.isdir("/var/lib/casemail"), "postinst creates the state directory")
        run("getent", "passwd", "casemail")
        verify = run("systemd-analyze", "verify", UNIT, "/usr/lib/systemd/system/casemail-maintenance.service",
                     "/usr/lib/systemd/system/casemail-maintenance.timer", check=False)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        checked = run("/usr/bin/casemaild", "--config", "/etc/casemail/casemail.toml", "--check-config")
        self.assertIn("OK", checked.stdout + checked.stderr)

        # The nightly maintenance job, line by line as its unit runs it, as the casemail user.
        run("runuser", "-u", "casemail", "--", "/usr/bin/casemail", "--config", "/etc/casemail/casemail.toml", "init")
        with open("/usr/lib/systemd/system/casemail-maintenance.service") as f:
            steps = [l.split("=", 1)[1].split() for l in f if l.startswith("ExecStart=")]
        self.assertEqual(len(steps), 4)
        for step in steps:
            run("runuser", "-u", "casemail", "--", *step)
        self.assertTrue(os.path.exists("/var/lib/casemail/backup/casemail.db"))

        # A city's edits survive an upgrade (the same package again) and a remove.
        with open("/etc/casemail/casemail.toml", "a") as f:
            f.write("# edited by the city\n")
        run("dpkg", "-i", deb)
        with open("/etc/casemail/casemail.toml") as f:
            self.assertIn("# edited by the city", f.read())
        run("dpkg", "--remove", "casemail")
        self.assertFalse(os.path.exists("/usr/bin/casemaild"))
        self.assertTrue(os.path.exists("/etc/casemail/casemail.toml"), "a conffile stays until purge")
        run("dpkg", "--purge", "casemail")
        self.assertFalse(os.path.exists("/etc/casemail/casemail.toml"))
        self.assertTrue(os.path.isdir("/var/lib/casemail"), "the store's directory is the city's record: kept")
