"""Registers every `flask` command group."""


def register(app) -> None:
    from portal.auth.cli import users_cli
    from portal.demo.cli import demo_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
