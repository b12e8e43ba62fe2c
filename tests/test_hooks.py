"""The pre-push hook: its text, where it goes (core.hooksPath too), who may overwrite or remove it, what it runs for
each pushed ref (with a stand-in jessy-ci), and, end to end, a push refused by a broken Go test and a docs-only push
that goes through without running a step."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from jessy_ci import hooks
from jessy_ci.errors import UsageError
from tests.cli.test_cli import jessy_ci

IDENTITY = ("-c", "user.name=jessy-ci tests", "-c", "user.email=tests@jessy-ci.invalid")
CONFIG = '[components.x]\nlanguage = "python"\npath = "."\ntests = []\nlint_paths = []\n'
ZERO = "0" * 40


@pytest.fixture(autouse=True)
def plain_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config (a machine-wide core.hooksPath would move every hook)."""
    config = tmp_path_factory.mktemp("gitconfig") / "config"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a jessy-ci.toml and one commit."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "jessy-ci.toml").write_text(CONFIG)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    return path


def spec(**changes: str) -> hooks.HookSpec:
    return hooks.HookSpec(python=Path(sys.executable).absolute(), **changes)


# --- the hook's text --------------------------------------------------------------------------------------------


def test_the_hook_is_a_marked_sh_script_running_ci_with_the_recorded_interpreter() -> None:
    text = hooks.render(spec())
    assert text.startswith("#!/bin/sh\n")
    assert hooks.MARKER in text.splitlines() and hooks.is_ours(text)
    assert f"python={shlex.quote(str(Path(sys.executable).absolute()))}\n" in text
    assert '"$python" -m jessy_ci ci --runner host "$@" </dev/null' in text
    assert "cd -- " not in text, "git runs hooks at the work tree root: the project is there"
    dagger = hooks.render(spec(runner="dagger", project="tools/ci"))
    assert "ci --runner dagger" in dagger and "cd -- tools/ci || exit 1" in dagger


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
@pytest.mark.parametrize("project", [".", "tools/ci"])
def test_the_hook_is_shellcheck_clean(tmp_path: Path, project: str) -> None:
    hook = tmp_path / "pre-push"
    hook.write_text(hooks.render(spec(project=project)))
    done = subprocess.run(["shellcheck", "-s", "sh", str(hook)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_odd_paths_are_quoted_and_the_script_is_valid_sh(tmp_path: Path) -> None:
    python = tmp_path / "it's a $HOME `x`" / "python"
    text = hooks.render(hooks.HookSpec(python=python, project="my project"))
    hook = tmp_path / "pre-push"
    hook.write_text(text)
    assert subprocess.run(["sh", "-n", str(hook)], capture_output=True, check=False).returncode == 0
    (assignment,) = [line for line in text.splitlines() if line.startswith("python=")]
    shown = subprocess.run(["sh", "-c", f'{assignment}; printf %s "$python"'], capture_output=True, text=True)
    assert shown.stdout == str(python)
    assert "cd -- 'my project' || exit 1" in text


@pytest.mark.parametrize(
    ("text", "ours"),
    [
        ("#!/bin/sh\nexit 0\n", False),
        (f"#!/bin/sh\necho '{hooks.MARKER}'\n", False),  # the marker must be a line of its own
        (f"#!/bin/sh\n{hooks.MARKER}\nexit 0\n", True),
    ],
)
def test_only_a_hook_with_the_marker_line_is_ours(text: str, ours: bool) -> None:
    assert hooks.is_ours(text) is ours


def test_a_relative_interpreter_or_a_project_outside_the_work_tree_is_refused() -> None:
    with pytest.raises(UsageError, match="absolute path of a Python interpreter"):
        hooks.HookSpec(python=Path("python"))
    with pytest.raises(UsageError, match="relative to the work tree root"):
        spec(project="../elsewhere")


# --- where it goes ----------------------------------------------------------------------------------------------


def test_the_hook_goes_to_the_git_dir_by_default(repo: Path) -> None:
    (repo / "sub").mkdir()
    expected = (repo / ".git" / "hooks" / "pre-push").resolve()
    assert hooks.locate(repo).resolve() == expected
    assert hooks.locate(repo / "sub").resolve() == expected


def test_core_hooks_path_is_honoured_relative_to_the_work_tree_root(repo: Path, tmp_path: Path) -> None:
    (repo / "sub").mkdir()
    git(repo, "config", "core.hooksPath", ".githooks")
    assert hooks.locate(repo / "sub").resolve() == (repo / ".githooks" / "pre-push").resolve()
    shared = tmp_path / "shared hooks"
    git(repo, "config", "core.hooksPath", str(shared))
    assert hooks.locate(repo) == shared / "pre-push"


def test_a_folder_outside_git_is_bad_input(tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    with pytest.raises(UsageError, match="not in a git work tree"):
        hooks.locate(outside)


def test_the_project_folder_is_recorded_relative_to_the_work_tree_root(repo: Path) -> None:
    (repo / "tools" / "ci").mkdir(parents=True)
    assert hooks.project_folder(repo) == "."
    assert hooks.project_folder(repo / "tools" / "ci") == "tools/ci"


# --- install and uninstall: ownership, --force, idempotence -----------------------------------------------------


def test_install_is_idempotent_and_updates_its_own_hook(tmp_path: Path) -> None:
    path = tmp_path / "hooks" / "pre-push"
    assert hooks.install(path, hooks.render(spec())) is hooks.Installed.NEW
    assert path.stat().st_mode & stat.S_IXUSR and path.read_text() == hooks.render(spec())
    assert hooks.install(path, hooks.render(spec())) is hooks.Installed.UNCHANGED
    assert hooks.install(path, hooks.render(spec(runner="dagger"))) is hooks.Installed.UPDATED
    assert "--runner dagger" in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["pre-push"], "no temporary file left behind"


def test_a_foreign_hook_is_kept_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "pre-push"
    path.write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(UsageError) as refused:
        hooks.install(path, hooks.render(spec()))
    assert str(refused.value) == f"{path}: a pre-push hook jessy-ci did not write is there; pass --force to replace it"
    assert hooks.uninstall(path) is hooks.Removed.FOREIGN
    assert path.read_text() == "#!/bin/sh\necho mine\n"
    assert hooks.install(path, hooks.render(spec()), force=True) is hooks.Installed.REPLACED
    assert hooks.is_ours(path.read_text())


def test_uninstall_removes_only_its_own_hook(tmp_path: Path) -> None:
    path = tmp_path / "pre-push"
    assert hooks.uninstall(path) is hooks.Removed.ABSENT
    hooks.install(path, hooks.render(spec()))
    assert hooks.uninstall(path) is hooks.Removed.REMOVED
    assert not path.exists()


def test_a_symlinked_hook_is_replaced_never_written_through(tmp_path: Path) -> None:
    shared = tmp_path / "shared-pre-push"
    shared.write_text("#!/bin/sh\necho shared\n")
    path = tmp_path / "hooks" / "pre-push"
    path.parent.mkdir()
    path.symlink_to(shared)
    with pytest.raises(UsageError, match="pass --force"):
        hooks.install(path, hooks.render(spec()))
    assert hooks.install(path, hooks.render(spec()), force=True) is hooks.Installed.REPLACED
    assert not path.is_symlink() and shared.read_text() == "#!/bin/sh\necho shared\n"


def test_a_folder_where_the_hook_goes_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "pre-push").mkdir()
    with pytest.raises(UsageError, match="a folder, not a hook file"):
        hooks.install(tmp_path / "pre-push", hooks.render(spec()))


# --- the commands -----------------------------------------------------------------------------------------------


def test_hooks_install_twice_says_so_and_uninstall_removes_it(repo: Path) -> None:
    first = jessy_ci("hooks", "install", cwd=repo)
    assert first.returncode == 0, first.stderr
    hook = repo / ".git" / "hooks" / "pre-push"
    assert first.stderr.splitlines()[0] == f"jessy-ci: pre-push hook installed: {hook}"
    assert "jessy-ci ci --runner host --changed-since <the remote's commit>" in first.stderr
    assert os.access(hook, os.X_OK)
    assert f"python={shlex.quote(str(Path(sys.executable).absolute()))}" in hook.read_text()
    again = jessy_ci("hooks", "install", cwd=repo)
    assert again.returncode == 0
    assert again.stderr.strip() == f"jessy-ci: pre-push hook already installed (unchanged): {hook}"
    dagger = jessy_ci("hooks", "install", "--runner", "dagger", cwd=repo)
    assert dagger.stderr.splitlines()[0] == f"jessy-ci: pre-push hook updated: {hook}"
    assert "--runner dagger" in hook.read_text()
    gone = jessy_ci("hooks", "uninstall", cwd=repo)
    assert gone.returncode == 0 and gone.stderr.strip() == f"jessy-ci: pre-push hook removed: {hook}"
    assert not hook.exists()
    assert "no pre-push hook to remove" in jessy_ci("hooks", "uninstall", cwd=repo).stderr


def test_hooks_install_refuses_a_foreign_hook_in_one_line_unless_forced(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\nexit 0\n")
    done = jessy_ci("hooks", "install", cwd=repo)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"jessy-ci: error: {hook}: a pre-push hook jessy-ci did not write is there; pass --force to replace it"
    ]
    kept = jessy_ci("hooks", "uninstall", cwd=repo)
    assert kept.returncode == 0 and "did not write; left in place" in kept.stderr
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"
    forced = jessy_ci("hooks", "install", "--force", cwd=repo)
    assert forced.returncode == 0 and "replacing one jessy-ci did not write (--force)" in forced.stderr
    assert hooks.is_ours(hook.read_text())


def test_hooks_install_follows_core_hooks_path_and_the_project_folder(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    (top / "tools").mkdir(parents=True)
    git(top, "init", "-q")
    git(top, "config", "core.hooksPath", ".githooks")
    (top / "tools" / "jessy-ci.toml").write_text(CONFIG)
    done = jessy_ci("hooks", "install", cwd=top / "tools")
    assert done.returncode == 0, done.stderr
    hook = top / ".githooks" / "pre-push"
    assert "cd -- tools || exit 1" in hook.read_text()
    assert not (top / ".git" / "hooks" / "pre-push").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hooks", "install", "--runner", "k8s"], "error: --runner 'k8s': unknown runner; expected one of:"),
        (["hooks", "install"], "jessy-ci.toml: not found"),
    ],
)
def test_hooks_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    git(tmp_path, "init", "-q")
    if "--runner" in args:
        (tmp_path / "jessy-ci.toml").write_text(CONFIG)
    done = jessy_ci(*args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not (tmp_path / ".git" / "hooks" / "pre-push").exists()


def test_hooks_alone_shows_its_commands() -> None:
    done = jessy_ci("hooks")
    assert done.returncode == 0
    assert "install" in done.stdout and "uninstall" in done.stdout


# --- what the hook runs, per pushed ref (a stand-in records jessy-ci's arguments) -------------------------------

FAKE_PYTHON = """#!/bin/sh
printf '%s|%s|%s\\n' "$(pwd)" "$*" "$(git rev-parse --show-toplevel)" >> "$JESSY_FAKE_LOG"
exit "${JESSY_FAKE_EXIT:-0}"
"""


class Pushed:
    """A repository with a bare remote (``main`` pushed at ``base``, one commit ``tip`` on top) and the hook
    installed with a stand-in interpreter that logs its arguments."""

    def __init__(self, tmp_path: Path, repo: Path) -> None:
        self.repo = repo
        self.log = tmp_path / "calls.log"
        remote = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", str(remote))
        git(repo, "remote", "add", "origin", str(remote))
        git(repo, "push", "-q", "-u", "origin", "main")
        self.base = git(repo, "rev-parse", "HEAD")
        (repo / "README.md").write_text("docs\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "docs")
        self.tip = git(repo, "rev-parse", "HEAD")
        fake = tmp_path / "bin" / "python"
        fake.parent.mkdir()
        fake.write_text(FAKE_PYTHON)
        fake.chmod(0o755)
        self.python = fake
        self.hook = hooks.locate(repo)
        hooks.install(self.hook, hooks.render(hooks.HookSpec(python=fake)))

    def push(self, *lines: str, fails: bool = False) -> tuple[subprocess.CompletedProcess[str], list[str]]:
        """Run the hook as git does (from the work tree root, ``origin <url>``, ref lines on stdin)."""
        self.log.unlink(missing_ok=True)
        env = {**os.environ, "JESSY_FAKE_LOG": str(self.log), "JESSY_FAKE_EXIT": "1" if fails else "0"}
        done = subprocess.run(
            [str(self.hook), "origin", "url-of-origin"],
            input="".join(f"{line}\n" for line in lines),
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        calls = self.log.read_text().splitlines() if self.log.exists() else []
        return done, [call.split("|")[1] for call in calls]


@pytest.fixture
def pushed(tmp_path: Path, repo: Path) -> Pushed:
    return Pushed(tmp_path, repo)


def test_an_update_is_checked_since_the_commit_the_remote_has(pushed: Pushed) -> None:
    done, calls = pushed.push(f"refs/heads/main {pushed.tip} refs/heads/main {pushed.base}")
    assert done.returncode == 0, done.stderr
    assert calls == [f"-m jessy_ci ci --runner host --changed-since {pushed.base}"]
    assert f"refs/heads/main: checking what changed since {pushed.base}" in done.stderr


def test_a_failed_check_refuses_the_push(pushed: Pushed) -> None:
    done, calls = pushed.push(f"refs/heads/main {pushed.tip} refs/heads/main {pushed.base}", fails=True)
    assert done.returncode == 1 and len(calls) == 1
    assert "checks failed: push refused" in done.stderr and "--no-verify" in done.stderr


def test_a_deletion_is_not_checked(pushed: Pushed) -> None:
    done, calls = pushed.push(f"(delete) {ZERO} refs/heads/old {pushed.base}")
    assert done.returncode == 0 and calls == []


def test_a_new_branch_is_checked_since_its_merge_base_with_its_upstream_or_remote_head(pushed: Pushed) -> None:
    git(pushed.repo, "branch", "-q", "feature", pushed.tip)
    new = f"refs/heads/feature {pushed.tip} refs/heads/feature {ZERO}"
    done, calls = pushed.push(new)
    assert "no base known on origin; checking everything" in done.stderr
    assert calls == ["-m jessy_ci ci --runner host"], "neither an upstream nor origin/HEAD: everything"
    git(pushed.repo, "remote", "set-head", "origin", "main")
    assert pushed.push(new)[1] == [f"-m jessy_ci ci --runner host --changed-since {pushed.base}"]
    git(pushed.repo, "remote", "set-head", "origin", "--delete")
    git(pushed.repo, "branch", "-q", "--set-upstream-to=origin/main", "feature")
    assert pushed.push(new)[1] == [f"-m jessy_ci ci --runner host --changed-since {pushed.base}"]


def test_a_remote_commit_unknown_here_falls_back_to_the_new_branch_base(pushed: Pushed) -> None:
    done, calls = pushed.push(f"refs/heads/main {pushed.tip} refs/heads/main {'f' * 40}")
    assert calls == [f"-m jessy_ci ci --runner host --changed-since {pushed.base}"], done.stderr


def test_refs_with_the_same_base_are_checked_once(pushed: Pushed) -> None:
    git(pushed.repo, "branch", "-q", "other", pushed.base)
    done, calls = pushed.push(
        f"refs/heads/main {pushed.tip} refs/heads/main {pushed.base}",
        f"refs/heads/other {pushed.base} refs/heads/main {pushed.base}",
        f"refs/heads/main {pushed.tip} refs/heads/copy {pushed.base}",
    )
    assert calls == [f"-m jessy_ci ci --runner host --changed-since {pushed.base}"], done.stderr


def test_a_ref_other_than_head_is_checked_on_the_work_tree_saying_so(pushed: Pushed) -> None:
    git(pushed.repo, "branch", "-q", "other", pushed.base)
    done, calls = pushed.push(f"refs/heads/other {pushed.base} refs/heads/other {pushed.base}")
    assert calls == [f"-m jessy_ci ci --runner host --changed-since {pushed.base}"]
    assert "note: refs/heads/other is not checked out; checking the work tree (HEAD) instead" in done.stderr


def test_the_hook_runs_from_the_project_folder(tmp_path: Path, pushed: Pushed) -> None:
    (pushed.repo / "tools").mkdir()
    hooks.install(pushed.hook, hooks.render(hooks.HookSpec(python=pushed.python, project="tools")))
    pushed.push(f"refs/heads/main {pushed.tip} refs/heads/main {pushed.base}")
    (where,) = [line.partition("|")[0] for line in pushed.log.read_text().splitlines()]
    assert Path(where).resolve() == (pushed.repo / "tools").resolve()


def test_in_a_linked_worktree_git_still_sees_the_worktree_from_the_project_folder(
    pushed: Pushed, tmp_path: Path
) -> None:
    (pushed.repo / "tools").mkdir()
    (pushed.repo / "tools" / "jessy-ci.toml").write_text(CONFIG)
    git(pushed.repo, "add", "-A")
    git(pushed.repo, "commit", "-q", "-m", "tools")
    tree = tmp_path / "worktree"
    git(pushed.repo, "worktree", "add", "-q", "-b", "topic", str(tree))
    hooks.install(pushed.hook, hooks.render(hooks.HookSpec(python=pushed.python, project="tools")))
    env = {**os.environ, "JESSY_FAKE_LOG": str(pushed.log)}
    done = subprocess.run(["git", "push", "origin", "topic"], cwd=tree, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ((where, _, top),) = [line.split("|") for line in pushed.log.read_text().splitlines()]
    assert Path(where).resolve() == (tree / "tools").resolve()
    assert Path(top).resolve() == tree.resolve(), "git's work tree is the worktree, not the project folder"


def test_a_missing_interpreter_blocks_the_push_saying_how_to_fix_it(pushed: Pushed) -> None:
    pushed.python.unlink()
    done, calls = pushed.push(f"refs/heads/main {pushed.tip} refs/heads/main {pushed.base}")
    assert done.returncode == 1 and calls == []
    assert f"{pushed.python}: not found; reinstall the hook (jessy-ci hooks install)" in done.stderr


def test_git_push_runs_the_hook_and_a_failure_refuses_it(pushed: Pushed, tmp_path: Path) -> None:
    env = {**os.environ, "JESSY_FAKE_LOG": str(pushed.log), "JESSY_FAKE_EXIT": "1"}
    refused = subprocess.run(["git", "push"], cwd=pushed.repo, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "checks failed: push refused" in refused.stderr
    assert git(tmp_path / "remote.git", "rev-parse", "main") == pushed.base
    env["JESSY_FAKE_EXIT"] = "0"
    done = subprocess.run(["git", "push"], cwd=pushed.repo, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert git(tmp_path / "remote.git", "rev-parse", "main") == pushed.tip


# --- end to end: the real jessy-ci on a small Go repository -----------------------------------------------------


@pytest.mark.slow
def test_a_broken_go_test_refuses_the_push_and_a_docs_change_goes_through(tmp_path: Path) -> None:
    from tests.engine.conftest import commit, edit
    from tests.engine.test_engine_usage import OTHER_GO, OTHER_GO_TEST

    repo, remote = tmp_path / "other", tmp_path / "remote.git"
    (repo / "greet").mkdir(parents=True)
    (repo / "greet" / "go.mod").write_text("module example.com/greet\n\ngo 1.26\n")
    (repo / "greet" / "greet.go").write_text(OTHER_GO)
    (repo / "greet" / "greet_test.go").write_text(OTHER_GO_TEST)
    (repo / "jessy-ci.toml").write_text('[components.greet]\nlanguage = "go"\npath = "greet"\ntests = ["unit"]\n')
    (repo / "README.md").write_text("# greet\n")
    (repo / ".gitignore").write_text("/reports/\n/.jessy-ci/\n")
    commit(repo, "a small Go repository")
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "HEAD")
    pushed, branch = git(repo, "rev-parse", "HEAD"), git(repo, "branch", "--show-current")
    installed = jessy_ci("hooks", "install", cwd=repo)  # with this interpreter: the venv's
    assert installed.returncode == 0, installed.stderr

    def push() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "push"], cwd=repo, capture_output=True, text=True, timeout=1800, check=False)

    def remote_tip() -> str:
        return git(remote, "rev-parse", branch)

    edit(
        repo / "greet" / "greet_test.go",
        "func TestHello(t *testing.T) {",
        'func TestHello(t *testing.T) {\n\tt.Errorf("broken on purpose")',
    )
    commit(repo, "break a Go unit test")
    refused = push()
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output[-3000:]
    assert f"checking what changed since {pushed}" in output
    assert "failing test: example.com/greet::TestHello" in output, output[-3000:]
    assert "checks failed: push refused" in output
    assert remote_tip() == pushed

    git(repo, "reset", "-q", "--hard", pushed)
    (repo / "README.md").write_text("# greet\n\nSays hello.\n")
    commit(repo, "docs only")
    done = push()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "1 file; no component selected" in output
    assert "greet:" not in output, "no step ran"
    assert remote_tip() == git(repo, "rev-parse", "HEAD")
