"""A deploy of the live release writes its .env and the operator's command
only when the host's copies differ from what they should be (the state read
of roles/flasky_app/tasks/state.yml gives their mode, owners and sha256):
one changed by hand is put back by the next deploy, which changes nothing
else, and the deploy after that changes nothing."""

import re

import kit

testinfra_hosts = [kit.first_web_host_name()]

ENV = f"{kit.HOME}/current/.env"
MANAGE = f"/usr/local/bin/{kit.APP}-manage"
WRITE_ENV = "TASK [flasky_app : Write the release's environment file]"
WRITE_MANAGE = "TASK [flasky_app : Install the operator's command for the live release's flask CLI]"


def _state(host):
    with host.sudo():
        return (host.file(ENV).content_string, host.file(ENV).mode, host.file(MANAGE).content_string,
                host.file(MANAGE).mode)


def test_a_hand_edited_env_file_and_operator_command_are_put_back(host):
    name = host.backend.get_hostname()
    before = _state(host)
    assert before[1] == 0o600 and before[3] == 0o755, before
    with host.sudo():
        host.check_output(f"echo 'MAIL_SERVER=hand.edited.example' >> {ENV}")
        host.check_output(f"chmod 0700 {MANAGE}")
    rc, out = kit.playbook("playbooks/deploy.yml", name)
    assert rc == 0, out[-4000:]
    assert _state(host) == before, "the .env or the operator's command was not put back"
    assert kit.recap_changed(out, name) == 2, out[-4000:]
    for task in (WRITE_ENV, WRITE_MANAGE):
        assert re.search(re.escape(task) + r"[^\n]*\n(?:[^\n]*\n){0,2}changed:", out), f"{task} did not report the change"
    rc, out = kit.playbook("playbooks/deploy.yml", name)
    assert rc == 0 and kit.recap_changed(out, name) == 0, out[-4000:]
    # (A task every host skips prints no header: ansible.cfg hides skipped hosts.)
    assert WRITE_ENV not in out and WRITE_MANAGE not in out, "a deploy that changes nothing wrote them again"
