"""What the command-line test scripts share: a temporary folder per test, and the runner."""
import os
import shutil
import sys
import tempfile
import unittest


class TempDirTestCase(unittest.TestCase):
    """A test with its own temporary folder, removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="salesflow-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path


def main(module_name):
    """Runs the module's tests; prints 'N passed, M failed' last; exits non-zero on failure."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])
    outcome = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(outcome.failures) + len(outcome.errors)
    print("%d passed, %d failed" % (outcome.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
