"""`video-catalog auth` and `admin`: users of a shared catalog (team mode).

A user is a PostgreSQL login role; the database keeps each to their own rows (sql/014: row-level security), so
it holds even for someone who bypasses this program. Passwords are turned into SCRAM verifiers here and never
sent, stored or printed. None of these commands imports Dagster.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Annotated

import typer

from catalog_cli.common import catalog_db, cli_settings, fail, handles_errors
from catalog_cli.render import err, out
from catalog_cli.render.text import LiteralTable, count, literal

auth_app = typer.Typer(help="Users of a shared catalog: init (the first admin), signup, status.", no_args_is_help=True)
admin_app = typer.Typer(help="Admin commands for a shared catalog: users list, promote, demote, disable.",
                        no_args_is_help=True)
users_app = typer.Typer(help="The catalog's users.", no_args_is_help=True)
admin_app.add_typer(users_app, name="users")
clips_app = typer.Typer(help="Every user's clips.", no_args_is_help=True)
admin_app.add_typer(clips_app, name="clips")

PASSWORD_STDIN = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of "
                                              "standard input (for scripts) instead of asking twice.")]


def _password(from_stdin: bool) -> str:
    from catalog_resources.auth.names import check_password

    if from_stdin:
        return check_password(sys.stdin.readline().rstrip("\n"))
    return check_password(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@contextmanager
def _database_says():
    """The database's refusals as one line each (they are the rules: sql/014)."""
    import psycopg

    try:
        yield
    except psycopg.errors.InsufficientPrivilege as exc:
        fail(f"not allowed: {exc.diag.message_primary or exc}")
    except psycopg.errors.DuplicateObject:
        fail("that user exists already")
    except psycopg.errors.UniqueViolation:
        fail("that e-mail address has an account already")
    except psycopg.errors.NoDataFound as exc:
        fail(f"{exc.diag.message_primary}; `video-catalog admin users list` shows who there is")


def _login_hint(email: str) -> str:
    settings = cli_settings()
    where = "HOST:5432"
    if settings.db_listen and not settings.database_url:
        from catalog_resources.store.embedded_server import parse_listen

        host, port = parse_listen(settings.db_listen)
        where = f"{'HOST' if host in ('*', '0.0.0.0', '::') else host}:{port}"
    return f"video-catalog auth login --email {email} --server {where}"


@auth_app.command("init")
@handles_errors
def init(
    email: Annotated[str, typer.Option(help="The first admin's e-mail address.")],
    password_stdin: PASSWORD_STDIN = False,
) -> None:
    """Turn this catalog into a shared one: make the first admin, who takes over every clip cataloged so far
    (ids unchanged). Run it on the catalog's own machine as the account that made it.

    Examples:
      video-catalog auth init --email anna@example.com
      video-catalog db start --listen 0.0.0.0:5433     # then colleagues can connect (auth signup)
    """
    from catalog_resources.auth.names import check_email, role_for
    from catalog_resources.auth.scram import scram_verifier

    email = check_email(email)
    db = catalog_db()[1]
    state = db.team_state()
    if state["team"]:
        fail(f"this catalog is shared already (first admin: {state['owner']}); add people with `auth signup`")
    if state["me"] != state["owner"] and not state["admin"]:
        fail(f"run this as the account that made the catalog ({state['owner']}), not {state['me']}")
    role = role_for(email)
    verifier = scram_verifier(_password(password_stdin))
    with _database_says():
        db.add_user(email, role, verifier, admin=True)
        moved = db.hand_over(role)
    out.print(literal(f"{email} is the first admin (database role {role}); {count(moved, 'row')} of the catalog "
                      "are theirs now."), highlight=False)
    out.print(literal(f"Log in as them with: {_login_hint(email)}"), highlight=False)


@auth_app.command("signup")
@handles_errors
def signup(
    email: Annotated[str, typer.Argument(help="The new user's e-mail address.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make them an admin (sees and edits everyone's clips).")] = False,
    password_stdin: PASSWORD_STDIN = False,
) -> None:
    """Add a colleague to a shared catalog (admins only). They see only what they catalog themselves.

    Examples:
      video-catalog auth signup ben@example.com
      printf '%s\\n' "$PASSWORD" | video-catalog auth signup ben@example.com --password-stdin
    """
    from catalog_resources.auth.names import check_email, role_for
    from catalog_resources.auth.scram import scram_verifier

    email = check_email(email)
    db = catalog_db()[1]
    if not db.team_state()["team"]:
        fail("this catalog is not shared yet: run `video-catalog auth init --email YOU` first")
    role = role_for(email)
    verifier = scram_verifier(_password(password_stdin))
    with _database_says():
        db.add_user(email, role, verifier, admin=admin)
    out.print(literal(f"Added {email}{' (admin)' if admin else ''}: database role {role}."), highlight=False)
    out.print(literal(f"They log in with: {_login_hint(email)}"), highlight=False)


@auth_app.command("login")
@handles_errors
def login(
    email: Annotated[str, typer.Option(help="Your e-mail address (as `auth signup` made the account).")],
    server: Annotated[str, typer.Option(help="The shared catalog's server, HOST:PORT (as `db start --listen` "
                                        "serves it).")],
    password_stdin: PASSWORD_STDIN = False,
) -> None:
    """Log in to a shared catalog: every later command works on it as you, until `auth logout`. The password is
    asked once; what is kept (in ~/.video_ingest_auth.json, readable by you only) are tokens: an access token
    valid for 15 minutes, renewed on its own while you work, and a refresh token valid for 30 days.

    Examples:
      video-catalog auth login --email ben@example.com --server catalog.example.com:5433
      video-catalog list                # ben's clips
      video-catalog auth logout
    """
    from catalog_resources.auth import session as sessions
    from catalog_resources.auth.names import check_email

    email = check_email(email)
    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else typer.prompt("Password", hide_input=True))
    previous = sessions.load()
    found = sessions.login(server, email, password)
    if previous is not None and previous.session_role != found.session_role:
        sessions.end(previous, keep_file=True)  # one session per machine: the one it replaces ends on the server
    out.print(literal(f"Logged in to {found.host}:{found.port} as {email}; tokens in {sessions.auth_file()}."),
              highlight=False)


@auth_app.command("logout")
@handles_errors
def logout() -> None:
    """End this machine's session: the server refuses its tokens from now on and closes its connections, and the
    token file is deleted. Commands then work on the local catalog again.

    Example:
      video-catalog auth logout
    """
    from catalog_resources.auth import session as sessions

    found = sessions.load()
    if found is None:
        err.print("Not logged in.", highlight=False)
        return
    sessions.end(found)
    out.print(literal(f"Logged out {found.email} from {found.host}:{found.port}."), highlight=False)


@auth_app.command("status")
@handles_errors
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Who this catalog connection acts as, and whether the catalog is shared.

    Example:
      video-catalog auth status --json
    """
    from catalog_resources.auth import session as sessions

    db = catalog_db()[1]
    state = db.team_state()
    me = next((u for u in db.users() if u["role_name"] == state["me"]), None)
    found = {"team": state["team"], "role": state["me"], "email": me["email"] if me else None,
             "admin": bool(state["admin"]), "first_owner": state["owner"]}
    session = sessions.load() if not cli_settings().database_url else None
    if session is not None:
        found["session"] = {"server": f"{session.host}:{session.port}", "access_expires": session.access_expires.isoformat(),
                            "refresh_expires": session.refresh_expires.isoformat()}
    if as_json:
        print(json.dumps(found))
        return
    if not state["team"]:
        out.print(literal(f"Single-user catalog: {state['me']} owns everything."), highlight=False)
        return
    who = found["email"] or f"the local account ({state['me']})"
    where = f" at {found['session']['server']} (logged in)" if session else ""
    out.print(literal(f"Shared catalog{where}; you are {who}{', an admin' if found['admin'] else ''}."), highlight=False)


@users_app.command("list")
@handles_errors
def users_list(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False) -> None:
    """Every user: e-mail, database role, admin or not, disabled, clips.

    Example:
      video-catalog admin users list
    """
    rows = catalog_db()[1].users()
    if as_json:
        print(json.dumps(rows, default=str))
        return
    table = LiteralTable(title=count(len(rows), "user"), header_style="bold")
    for column in ("e-mail", "role", "admin", "disabled", "clips"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["email"], r["role_name"], "yes" if r["is_admin"] else "-",
                      str(r["disabled_at"])[:16] if r["disabled_at"] else "-", str(r["clips"]))
    out.print(table)


def _set_admin(email: str, admin: bool) -> None:
    db = catalog_db()[1]
    with _database_says():
        db.set_admin(email.strip().lower(), admin)
    err.print(literal(f"{email} is {'now an admin' if admin else 'no longer an admin'}."), highlight=False)


@users_app.command("promote")
@handles_errors
def promote(email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
            role: Annotated[str, typer.Argument(help="admin")] = "admin") -> None:
    """Make a user an admin.

    Example:
      video-catalog admin users promote ben@example.com admin
    """
    if role != "admin":
        fail(f"{role!r}: the one role to promote to is admin")
    _set_admin(email, True)


@users_app.command("demote")
@handles_errors
def demote(email: Annotated[str, typer.Argument(help="The user's e-mail address.")]) -> None:
    """Take a user's admin rights away.

    Example:
      video-catalog admin users demote ben@example.com
    """
    _set_admin(email, False)


@users_app.command("password")
@handles_errors
def password(email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
             password_stdin: PASSWORD_STDIN = False) -> None:
    """Give a user a new password (admins only; asked twice). Their sessions end: they log in again with it.

    Examples:
      video-catalog admin users password ben@example.com
      printf '%s\\n' "$PASSWORD" | video-catalog admin users password ben@example.com --password-stdin
    """
    from catalog_resources.auth.scram import scram_verifier

    db = catalog_db()[1]
    verifier = scram_verifier(_password(password_stdin))
    with _database_says():
        ended = db.set_password(email.strip().lower(), verifier)
    err.print(literal(f"{email} has a new password; {count(ended, 'session')} ended."), highlight=False)


@users_app.command("disable")
@handles_errors
def disable(email: Annotated[str, typer.Argument(help="The user's e-mail address.")]) -> None:
    """Stop a user at once: they can no longer log in, and their open connections are closed. Their clips stay
    (an admin still sees them).

    Example:
      video-catalog admin users disable ben@example.com
    """
    db = catalog_db()[1]
    with _database_says():
        closed = db.disable_user(email.strip().lower())
    err.print(literal(f"{email} is disabled; {count(closed, 'open connection')} closed."), highlight=False)


@clips_app.command("list")
@handles_errors
def clips_list(
    all_users: Annotated[bool, typer.Option("--all-users", help="Every user's clips (the default for an admin; "
                                            "without it, your own).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Clips with the user each belongs to. Row-level security decides what is there: an admin gets everyone's, a
    user their own whatever they ask.

    Example:
      video-catalog admin clips list --all-users
    """
    from catalog_resources.models.clips import ClipFilter

    db = catalog_db()[1]
    rows = db.list_clips(None, None if all_users else ClipFilter(owner="me"), "cataloged")
    emails = {u["role_name"]: u["email"] for u in db.users()}
    found = [{"clip_id": r["clip_id"], "file_name": r["file_name"], "owner": emails.get(r["owner"], r["owner"]),
              "path": r["path"]} for r in rows]
    if as_json:
        print(json.dumps(found))
        return
    table = LiteralTable(title=count(len(found), "clip"), header_style="bold")
    for column in ("clip", "file", "user", "path"):
        table.add_column(column, overflow="fold")
    for r in found:
        table.add_row(r["clip_id"], r["file_name"], r["owner"], r["path"])
    out.print(table)
