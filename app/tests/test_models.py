from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from flasky import db
from flasky.models import (AnonymousUser, Follow, Permission, Post, Role,
                           User, utcnow)
from tests.conftest import ADMIN, make_user


# --- passwords --------------------------------------------------------------

def test_password_setter_stores_a_hash(app):
    u = User(password='cat')
    assert u.password_hash is not None
    assert 'cat' not in u.password_hash


def test_password_is_not_readable(app):
    u = User(password='cat')
    with pytest.raises(AttributeError):
        u.password


def test_password_verification(app):
    u = User(password='cat')
    assert u.verify_password('cat')
    assert not u.verify_password('dog')


def test_password_salts_are_random(app):
    u = User(password='cat')
    u2 = User(password='cat')
    assert u.password_hash != u2.password_hash


def test_user_without_password_cannot_log_in(app):
    assert not User().verify_password('')


# --- roles and permissions --------------------------------------------------

def test_insert_roles_is_idempotent(make_app):
    make_app('testing', migrate=False)
    db.create_all()
    assert Role.insert_roles() == 3
    assert Role.insert_roles() == 0
    names = set(db.session.scalars(select(Role.name)))
    assert names == {'User', 'Moderator', 'Administrator'}
    default = db.session.scalars(select(Role).filter_by(default=True)).all()
    assert [r.name for r in default] == ['User']


def test_insert_roles_repairs_changed_roles(app):
    mod = db.session.scalar(select(Role).filter_by(name='Moderator'))
    mod.permissions = Permission.FOLLOW
    admin = db.session.scalar(select(Role).filter_by(name='Administrator'))
    admin.default = True
    db.session.commit()
    assert Role.insert_roles() == 2
    db.session.refresh(mod)
    assert mod.has_permission(Permission.MODERATE)
    assert not db.session.get(Role, admin.id).default
    assert Role.insert_roles() == 0


def test_user_role_permissions(app):
    u = User(email='john@example.com', password='cat')
    assert u.role.name == 'User'
    assert u.can(Permission.FOLLOW)
    assert u.can(Permission.COMMENT)
    assert u.can(Permission.WRITE)
    assert not u.can(Permission.MODERATE)
    assert not u.can(Permission.ADMIN)


def test_moderator_role(app):
    r = db.session.scalar(select(Role).filter_by(name='Moderator'))
    u = User(email='john@example.com', password='cat', role=r)
    assert u.can(Permission.MODERATE)
    assert not u.can(Permission.ADMIN)


def test_administrator_from_flasky_admin(app):
    u = User(email=ADMIN.upper(), password='cat')
    assert u.role.name == 'Administrator'
    assert u.is_administrator()
    for perm in (Permission.FOLLOW, Permission.COMMENT, Permission.WRITE,
                 Permission.MODERATE, Permission.ADMIN):
        assert u.can(perm)
    other = User(email='someone@example.org', password='cat')
    assert not other.is_administrator()


def test_anonymous_user(app):
    u = AnonymousUser()
    assert not u.can(Permission.FOLLOW)
    assert not u.is_administrator()


def test_role_permission_helpers(app):
    r = Role(name='Tmp')
    assert r.permissions == 0
    r.add_permission(Permission.WRITE)
    r.add_permission(Permission.WRITE)
    assert r.permissions == Permission.WRITE
    r.remove_permission(Permission.WRITE)
    assert r.permissions == 0


# --- confirmation tokens ------------------------------------------------------

def test_confirmation_token(app):
    u = make_user(confirmed=False)
    token = u.generate_confirmation_token()
    assert u.confirm(token)
    assert u.confirmed


def test_confirmation_token_of_another_user(app):
    u1 = make_user(confirmed=False)
    u2 = make_user('susan@example.org', 'susan', confirmed=False)
    assert not u2.confirm(u1.generate_confirmation_token())
    assert not u2.confirmed


def test_confirmation_token_expires(app):
    u = make_user(confirmed=False)
    token = u.generate_confirmation_token()
    assert not u.confirm(token, max_age=-1)


def test_confirmation_token_tampered(app):
    u = make_user(confirmed=False)
    assert not u.confirm(u.generate_confirmation_token() + 'x')


# --- follows ----------------------------------------------------------------

def test_new_user_follows_self(app):
    u = make_user()
    assert u.is_following(u)
    assert u.is_followed_by(u)
    assert u.followed.count() == 1
    assert u.followers.count() == 1


def test_follow_and_unfollow(app):
    u1 = make_user('john@example.com', 'john')
    u2 = make_user('susan@example.org', 'susan')
    assert not u1.is_following(u2)
    timestamp_before = utcnow()
    u1.follow(u2)
    db.session.commit()
    timestamp_after = utcnow()
    assert u1.is_following(u2)
    assert not u1.is_followed_by(u2)
    assert u2.is_followed_by(u1)
    assert u1.followed.count() == 2
    assert u2.followers.count() == 2
    f = u1.followed.filter_by(followed_id=u2.id).first()
    assert f.followed == u2
    assert timestamp_before <= f.timestamp <= timestamp_after
    u1.follow(u2)  # following twice is a no-op
    db.session.commit()
    assert u1.followed.count() == 2

    u1.unfollow(u2)
    db.session.commit()
    assert not u1.is_following(u2)
    assert u1.followed.count() == 1
    assert u2.followers.count() == 1


def test_cannot_unfollow_self(app):
    u = make_user()
    u.unfollow(u)
    db.session.commit()
    assert u.is_following(u)


def test_deleting_user_removes_follows(app):
    u1 = make_user('john@example.com', 'john')
    u2 = make_user('susan@example.org', 'susan')
    u1.follow(u2)
    db.session.commit()
    db.session.delete(u2)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Follow)) == 1


def test_add_self_follows_is_idempotent(app):
    u1 = make_user('john@example.com', 'john')
    u2 = make_user('susan@example.org', 'susan')
    u1.follow(u2)
    db.session.commit()
    # Users from before self-follows existed: remove theirs.
    db.session.execute(delete(Follow).where(
        Follow.follower_id == Follow.followed_id))
    db.session.commit()
    db.session.expire_all()
    assert not u1.is_following(u1)
    assert User.add_self_follows() == 2
    assert u1.is_following(u1) and u2.is_following(u2)
    assert u1.is_following(u2)
    assert User.add_self_follows() == 0


def test_followed_posts(app):
    u1 = make_user('john@example.com', 'john')
    u2 = make_user('susan@example.org', 'susan')
    u3 = make_user('david@example.net', 'david')
    now = utcnow()
    p1 = Post(body='post from john', author=u1, timestamp=now)
    p2 = Post(body='post from susan', author=u2,
              timestamp=now + timedelta(seconds=1))
    p3 = Post(body='post from david', author=u3,
              timestamp=now + timedelta(seconds=2))
    db.session.add_all([p1, p2, p3])
    u1.follow(u2)
    db.session.commit()
    posts = db.session.scalars(
        u1.followed_posts.order_by(Post.timestamp.desc())).all()
    assert posts == [p2, p1]
    assert db.session.scalars(u3.followed_posts).all() == [p3]


def test_ping_updates_last_seen_at_most_once_a_minute(app):
    u = make_user()
    old = utcnow() - timedelta(hours=1)
    u.last_seen = old
    db.session.commit()
    u.ping()
    first = u.last_seen
    assert first > old
    u.ping()
    assert u.last_seen == first
