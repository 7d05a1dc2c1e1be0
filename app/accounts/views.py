"""Sign in, sign out and change password."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField

from app.accounts import services
from app.accounts.access import safe_next
from app.accounts.models import User
from app.extensions import db, login

bp = Blueprint("accounts", __name__, url_prefix="/account")


@login.user_loader
def load_user(user_id: str) -> User | None:
    return services.load_session_user(user_id)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), render_kw={"autocomplete": "username", "dir": "ltr"})
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "current-password"})


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"})
    new = PasswordField(
        _l("New password (at least 12 characters)"), render_kw={"autocomplete": "new-password"}
    )


def home_for(user: User) -> str:
    """Return the workspace page a user lands on after signing in."""
    if user.role == "coordinator":
        return url_for("links.index") if "links.index" in _endpoints() else url_for("main.index")
    return url_for("analyst.dashboard") if "analyst.dashboard" in _endpoints() else "/"


def _endpoints() -> set[str]:
    return set(current_app.view_functions)


@bp.route("/login", methods=["GET", "POST"])
def login_page() -> Any:
    """Sign in; repeated failures answer 429 with Retry-After (app.accounts.throttle)."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data or "", form.password.data or "")
        except services.SignInRefused as refused:
            return _refused(form, refused)
        if user is None:
            error = _("The email or password is not right.")
        else:
            services.start_session(user)
            login_user(user)
            services.record("login", target=f"user:{user.id}", user=user)
            if user.must_change_password:
                return redirect(url_for("accounts.password"))
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("accounts/login.html", form=form, error=error), (401 if error else 200)


def _refused(form: LoginForm, refused: services.SignInRefused) -> Any:
    """Render the sign-in page saying how long to wait, with 429 and Retry-After."""
    minutes = math.ceil(refused.seconds / 60)
    if refused.account_locked:
        error = _(
            "This account is locked after many failed sign-ins. Sign in from a browser you "
            "used before, ask an administrator for a one-time password, or try again in "
            "%(minutes)d min.",
            minutes=minutes,
        )
    else:
        error = _(
            "Too many failed sign-ins from here. Try again in %(minutes)d min.", minutes=minutes
        )
    page = render_template("accounts/login.html", form=form, error=error)
    return page, 429, {"Retry-After": str(refused.seconds)}


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """Sign out: the session ends on the server too."""
    services.end_session()
    logout_user()
    return redirect(url_for("accounts.login_page"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Change the password (required after a one-time password)."""
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data or "", form.new.data or "")
        except services.AccountError as exc:
            error = _(str(exc))
            db.session.rollback()
        else:
            services.record("password_changed", target=f"user:{current_user.id}")
            return redirect(home_for(current_user))
    return render_template("accounts/password.html", form=form, error=error)
