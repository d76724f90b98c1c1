"""The git server keeps the credential deny-list: a secret's name may appear in git_diff, git_show or git_add's
answer, its content never does, and git_add / git_commit never record one. The secrets here are known by
name (`.env`, `id_rsa`, `*.pem`, `.netrc`, an upper-case and an NFD spelling of a configured pattern), by
folder (a file inside ~/.ssh), by identity (a hard link into the repository, a symlink into ~/.ssh) or by
content (a private key under an innocent name), in real repositories made with plain git. Afterwards the
token is in no tool result, no model request, and no object of the repository's object store."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_user_config
from tests.inprocess import llmos
from tests.mcp_helpers import memory_client
from tests.replay_server import ReplayServer
from tests.scripted_model import ScriptedModel, openai_text, openai_tool_calls

TOKEN = "sk_live_GITSECRET0123456789"
KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{TOKEN}\n-----END OPENSSH PRIVATE KEY-----\n"
NFD_NAME = unicodedata.normalize("NFD", "clé.txt")  # secret by a configured pattern spelled NFC
NAMED = [".env", ".env.production", "id_rsa", "server.pem", ".netrc", "deploy/.ENV", NFD_NAME]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(f"key material {TOKEN}\n")  # no PEM marker: known by folder only
    monkeypatch.setenv("HOME", str(home))
    return home


def make_repo(home: Path, name: str = "proj") -> Path:
    repo = home / name
    git(home, "init", "-q", "-b", "main", str(repo))
    for key, value in (("user.name", "Ada"), ("user.email", "ada@example.com"), ("commit.gpgsign", "false")):
        git(repo, "config", key, value)
    (repo / "README.md").write_text("hello\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    return repo


def settings(home: Path) -> dict[str, Any]:
    return {"filesystem": {"roots": [str(home)], "secret_patterns": ["clé.txt"]}, "network_timeout": 10}


def calls(home: Path, *steps: tuple[str, dict[str, Any]]) -> list[str]:
    """Each call's whole answer (structured and text), through the real git server."""

    async def go() -> list[str]:
        async with memory_client("git", settings(home)) as client:
            out = []
            for name, arguments in steps:
                result = await client.call_tool(name, arguments)
                text = "".join(getattr(c, "text", "") for c in result.content)
                out.append(json.dumps(result.structured_content) + text)
            return out
    return asyncio.run(go())


def objects_hold_token(repo: Path, text: str = TOKEN) -> bool:
    """Whether any object in the repository's store (reachable or not) holds ``text``."""
    out = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True,
                         check=True).stdout
    return text.encode() in out


def write(repo: Path, rel: str, text: str) -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text)


# ---- patches: unstaged, staged, against a ref, in history ---------------------------------------------------

@pytest.mark.parametrize("name", NAMED)
def test_diffs_and_shows_name_a_secret_but_never_show_it(home: Path, name: str) -> None:
    repo = make_repo(home)
    write(repo, name, f"TOKEN={TOKEN}\n")
    write(repo, "notes.txt", "plain\n")
    git(repo, "add", "--", name, "notes.txt")
    git(repo, "commit", "-qm", "add config")  # plain git committed it: history holds the secret
    write(repo, name, f"TOKEN={TOKEN}\nMORE={TOKEN}\n")  # unstaged change
    write(repo, "notes.txt", "plain\nchanged\n")
    at = str(repo)
    results = calls(home, ("git_diff", {"repo": at}), ("git_diff", {"repo": at, "ref": "HEAD~1"}),
                    ("git_diff", {"repo": at, "path": name}), ("git_show", {"repo": at}),
                    ("git_show", {"repo": at, "ref": "main"}))
    git(repo, "add", "--", name)  # staged too
    results += calls(home, ("git_diff", {"repo": at, "staged": True}),
                     ("git_diff", {"repo": at, "staged": True, "ref": "HEAD~1"}))
    for text in results:
        assert TOKEN not in text, text
    assert "changed" in results[0]  # the innocent file's patch is still shown
    assert "withheld" in results[0] and "withheld" in results[3]


def test_a_renamed_secret_and_a_key_under_an_innocent_name_stay_hidden(home: Path) -> None:
    """A change with a secret on either side (the rename of deploy/.env) is withheld whole. (A file that
    is not a secret by the filesystem's rules — settings.txt once renamed — is readable there too.)"""
    repo = make_repo(home)
    write(repo, "deploy/.env", f"TOKEN={TOKEN}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "env")
    git(repo, "mv", "deploy/.env", "deploy/settings.txt")
    write(repo, "deploy/settings.txt", f"TOKEN={TOKEN}\nX=1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "rename")
    write(repo, "docs/notes.txt", KEY)  # a private key, known by its content
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "notes")
    at = str(repo)
    results = calls(home, ("git_show", {"repo": at}), ("git_show", {"repo": at, "ref": "HEAD~1"}),
                    ("git_show", {"repo": at, "ref": "HEAD~2"}), ("git_diff", {"repo": at, "ref": "HEAD~2"}))
    for text in results:
        assert TOKEN not in text, text


def test_blobs_and_paths_in_history_are_not_commits(home: Path) -> None:
    """`git show HEAD:deploy/.env` and a blob's hash: git_show and git_diff take commits only."""
    repo = make_repo(home)
    write(repo, "deploy/.env", f"TOKEN={TOKEN}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "env")
    blob = git(repo, "rev-parse", "HEAD:deploy/.env").strip()
    git(repo, "tag", "-a", "-m", "blob tag", "blobtag", blob)
    at = str(repo)
    results = calls(home, *[(tool, {"repo": at, "ref": ref}) for tool in ("git_show", "git_diff")
                            for ref in ("HEAD:deploy/.env", blob, blob[:7], "blobtag", "HEAD:deploy")])
    for text in results:
        assert TOKEN not in text, text


def test_a_hard_link_to_a_key_in_the_working_tree_is_not_diffed(home: Path) -> None:
    """A tracked notes.txt replaced by a hard link to ~/.ssh/id_rsa, and a symlink into ~/.ssh."""
    repo = make_repo(home)
    write(repo, "notes.txt", "plain\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "notes")
    (repo / "notes.txt").unlink()
    os.link(home / ".ssh" / "id_rsa", repo / "notes.txt")
    at = str(repo)
    results = calls(home, ("git_diff", {"repo": at}), ("git_diff", {"repo": at, "path": "notes.txt"}),
                    ("git_diff", {"repo": at, "ref": "HEAD"}))
    for text in results:
        assert TOKEN not in text, text
    assert "notes.txt" in results[0] and "withheld" in results[0]


def test_a_submodule_patch_never_shows_the_submodules_files(home: Path) -> None:
    sub = make_repo(home, "lib")
    write(sub, "conf/.env", "TOKEN=old\n")
    git(sub, "add", ".")
    git(sub, "commit", "-qm", "env")
    repo = make_repo(home)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "lib")
    git(repo, "commit", "-qm", "sub")
    write(repo, "lib/conf/.env", f"TOKEN={TOKEN}\n")
    write(repo, "lib/conf/app.cfg", f"TOKEN={TOKEN}\n")  # a secret the superproject cannot vet
    git(repo, "config", "diff.submodule", "diff")  # the repository asks for the submodule's lines
    assert TOKEN in git(repo, "diff", "--submodule=diff")  # plain git shows them: the attack is real
    results = calls(home, ("git_diff", {"repo": str(repo)}), ("git_diff", {"repo": str(repo), "ref": "HEAD"}))
    for text in results:
        assert TOKEN not in text, text


# ---- staging and committing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["dot", "named", "folder"])
def test_git_add_never_stages_a_secret_by_name_folder_or_identity(home: Path, tmp_path: Path, how: str) -> None:
    repo = make_repo(home)
    for name in NAMED:
        write(repo, name, f"TOKEN={TOKEN}\n")
    os.link(home / ".ssh" / "id_rsa", repo / "backup.txt")  # a hard link to a key in ~/.ssh
    elsewhere = home / "other" / "creds"
    elsewhere.parent.mkdir()
    elsewhere.write_text(f"TOKEN={TOKEN}\n")
    os.link(elsewhere, repo / "linked.txt")  # two names: the other one is not known
    (repo / "key-link").symlink_to(home / ".ssh" / "id_rsa")  # a symlink into ~/.ssh
    write(repo, "plain.txt", "fine\n")
    everything = [*NAMED, "backup.txt", "linked.txt", "key-link", "plain.txt"]
    paths = {"dot": ["."], "named": everything, "folder": [".", "deploy"]}[how]
    [answer] = calls(home, ("git_add", {"repo": str(repo), "paths": paths}))
    staged = git(repo, "ls-files", "--stage")
    assert "plain.txt" in staged
    for name in everything[:-1]:
        assert name not in staged and unicodedata.normalize("NFC", name) not in staged, staged
    assert not objects_hold_token(repo)  # not even an unreachable blob was written
    assert "Not staged" in answer and TOKEN not in answer


def test_git_commit_refuses_a_staged_secret_and_all_that_would_stage_one(home: Path) -> None:
    repo = make_repo(home)
    write(repo, "notes.txt", "plain\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "notes")
    head = git(repo, "rev-parse", "HEAD")
    (repo / "notes.txt").unlink()
    os.link(home / ".ssh" / "id_rsa", repo / "notes.txt")  # `commit -a` would record the key
    write(repo, "README.md", "hello again\n")
    [all_answer] = calls(home, ("git_commit", {"repo": str(repo), "message": "all", "all": True}))
    write(repo, ".env", f"TOKEN={TOKEN}\n")
    git(repo, "add", "-f", ".env")  # staged behind llmos's back
    [staged_answer] = calls(home, ("git_commit", {"repo": str(repo), "message": "staged"}))
    assert git(repo, "rev-parse", "HEAD") == head  # nothing was committed
    assert "credential" in all_answer and "credential" in staged_answer
    assert TOKEN not in all_answer + staged_answer


# ---- end to end: the model never sees it --------------------------------------------------------------------

def test_llmos_run_git_diff_and_show_keep_the_secret_out_of_the_models_prompt(home: Path,
                                                                             isolated_home: Path) -> None:
    repo = make_repo(home)
    write(repo, ".env", f"TOKEN={TOKEN}\n")
    git(repo, "add", "-f", ".env")
    git(repo, "commit", "-qm", "env")
    write(repo, ".env", f"TOKEN={TOKEN}\nNEW={TOKEN}\n")
    os.link(home / ".ssh" / "id_rsa", repo / "copy.txt")
    with ReplayServer() as server:
        model = ScriptedModel(server)
        write_user_config(isolated_home, model.config(
            "servers:\n  system: {enabled: false}\n  apps: {enabled: false}\n  browser: {enabled: false}\n"
            f"  filesystem:\n    roots: [{home}]\n"))
        model.say(openai_tool_calls(("git_diff", {"repo": str(repo)})),
                  openai_tool_calls(("git_show", {"repo": str(repo)})),
                  openai_tool_calls(("git_add", {"repo": str(repo), "paths": ["."]})),
                  openai_text("Done."))
        out = llmos("run", "--json", "--yes", "show me what changed and stage it")
        prompts = json.dumps(model.requests())
    assert out.returncode == 0, out.stderr
    assert ".env" in prompts  # the names reached the model…
    assert TOKEN not in prompts and TOKEN not in out.stdout  # …the content did not
    assert "copy.txt" not in git(repo, "ls-files", "--stage")
    assert not objects_hold_token(repo, "NEW=")  # the changed .env was not staged either


def test_a_dotfiles_repository_at_home_never_shows_or_stages_credential_folders(home: Path) -> None:
    """The repository is the home folder itself: `.aws/credentials` and `.config/gh/hosts.yml` are secret by
    folder (the deny-list's paths), whatever their names say."""
    git(home, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Ada"), ("user.email", "ada@example.com"), ("commit.gpgsign", "false")):
        git(home, "config", key, value)
    for rel in (".aws/credentials", ".config/gh/hosts.yml"):
        write(home, rel, f"token: {TOKEN}\n")
    write(home, ".vimrc", "set number\n")
    git(home, "add", "-f", ".aws/credentials", ".vimrc")
    git(home, "commit", "-qm", "dotfiles")
    write(home, ".aws/credentials", f"token: {TOKEN}\nother: {TOKEN}\n")
    results = calls(home, ("git_diff", {"repo": str(home)}), ("git_show", {"repo": str(home)}),
                    ("git_add", {"repo": str(home), "paths": [".config", ".aws"]}),
                    ("git_diff", {"repo": str(home), "staged": True}))
    for text in results:
        assert TOKEN not in text, text
    assert "hosts.yml" not in git(home, "ls-files", "--stage")
    assert git(home, "diff", "--cached", "--name-only") == ""  # the changed credentials were not staged


def test_a_merge_that_resolves_a_secret_conflict_is_not_shown(home: Path) -> None:
    """git_show of a merge commit prints a combined diff (`diff --cc`): the secret is left out of it too."""
    repo = make_repo(home)
    write(repo, ".env", "TOKEN=base\n")
    git(repo, "add", "-f", ".env")
    git(repo, "commit", "-qm", "env")
    git(repo, "switch", "-qc", "side")
    write(repo, ".env", "TOKEN=side\n")
    git(repo, "commit", "-qam", "side")
    git(repo, "switch", "-q", "main")
    write(repo, ".env", "TOKEN=main\n")
    git(repo, "commit", "-qam", "main")
    subprocess.run(["git", "merge", "-q", "side"], cwd=repo, capture_output=True)  # conflicts
    write(repo, ".env", f"TOKEN={TOKEN}\n")
    git(repo, "add", ".env")
    git(repo, "commit", "-qm", "merged")
    assert TOKEN in git(repo, "show", "HEAD")  # plain git shows the resolution
    results = calls(home, ("git_show", {"repo": str(repo)}), ("git_diff", {"repo": str(repo), "ref": "side"}))
    for text in results:
        assert TOKEN not in text, text


@pytest.mark.parametrize("untracked", [False, True])
def test_a_stash_never_records_a_secret(home: Path, untracked: bool) -> None:
    """A stash is a commit, and it puts the working tree back: a hard link to a key stashed as notes.txt
    would then be shown by git_show stash@{0} (or its untracked-files parent) with nothing left to check."""
    repo = make_repo(home)
    write(repo, "notes.txt", "plain\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "notes")
    if untracked:
        os.link(home / ".ssh" / "id_rsa", repo / "loose.txt")
        write(repo, ".env.local", f"TOKEN={TOKEN}\n")
    else:
        (repo / "notes.txt").unlink()
        os.link(home / ".ssh" / "id_rsa", repo / "notes.txt")
    at = str(repo)
    results = calls(home, ("git_stash_push", {"repo": at, "untracked": untracked}),
                    ("git_show", {"repo": at, "ref": "stash@{0}"}), ("git_show", {"repo": at, "ref": "stash@{0}^3"}))
    for text in results:
        assert TOKEN not in text, text
    assert "credential" in results[0]
    assert git(repo, "stash", "list") == ""
    assert not objects_hold_token(repo)


def test_a_name_that_is_not_utf8_cannot_hide_a_hard_link_to_a_key(home: Path) -> None:
    """git prints `notes\\xff.txt` as `notes\\ufffd.txt`, a name no lstat finds: withheld, not trusted."""
    repo = make_repo(home)
    raw = os.fsencode(repo) + b"/notes\xff.txt"
    with open(raw, "wb") as f:
        f.write(b"plain\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "odd name")
    os.unlink(raw)
    os.link(home / ".ssh" / "id_rsa", raw)
    at = str(repo)
    results = calls(home, ("git_diff", {"repo": at}), ("git_diff", {"repo": at, "ref": "HEAD"}),
                    ("git_add", {"repo": at, "paths": ["."]}))
    for text in results:
        assert TOKEN not in text, text
    assert "withheld" in results[0]
    assert not objects_hold_token(repo)
