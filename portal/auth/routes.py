"""Staff sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import throttle
from portal.auth.forms import LoginForm
from portal.auth.models import User
from portal.auth.services import InvalidCredentials, record_login, sign_in
from portal.auth.throttle import SignInThrottled
from portal.extensions import db, login_manager
from portal.redirects import safe_next

bp = Blueprint("auth", __name__)
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_staff else None


@bp.record_once
def _init_throttle(state) -> None:
    throttle.init_app(state.app)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in(form.email.data, form.password.data, address=request.remote_addr, staff=True)
        except SignInThrottled as exc:
            return _throttled(form, exc)
        except InvalidCredentials:
            form.password.errors.append("Wrong email or password.")
        else:
            login_user(user)
            record_login(user)
            return redirect(safe_next(request.args.get("next")) or url_for("admin.dashboard"))
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


def _throttled(form: LoginForm, exc: SignInThrottled):
    """429 with the form and a sentence saying when to try again (and Retry-After for machines)."""
    response = make_response(render_template("auth/login.html", form=form, throttled=exc), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
