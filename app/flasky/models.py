"""Database models: roles and permissions, users, posts and follows."""
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_login import AnonymousUserMixin, UserMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased
from werkzeug.security import check_password_hash, generate_password_hash

from . import db, login_manager


def utcnow():
    """Naive UTC timestamp (what the DateTime columns store)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Permission:
    FOLLOW = 1
    COMMENT = 2
    WRITE = 4
    MODERATE = 8
    ADMIN = 16


class Role(db.Model):
    __tablename__ = 'roles'
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), unique=True)
    default = db.Column(db.Boolean, default=False, index=True)
    permissions = db.Column(db.Integer)
    users = db.relationship('User', back_populates='role', lazy='dynamic')

    #: The roles every database must hold, with their permissions.
    ROLES = {
        'User': [Permission.FOLLOW, Permission.COMMENT, Permission.WRITE],
        'Moderator': [Permission.FOLLOW, Permission.COMMENT,
                      Permission.WRITE, Permission.MODERATE],
        'Administrator': [Permission.FOLLOW, Permission.COMMENT,
                          Permission.WRITE, Permission.MODERATE,
                          Permission.ADMIN],
    }
    DEFAULT_ROLE = 'User'

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.permissions is None:
            self.permissions = 0

    @staticmethod
    def insert_roles():
        """Create or correct the standard roles; return how many changed.

        Idempotent: a second call on the same database returns 0 and writes
        nothing. Commits when something changed.
        """
        changed = 0
        for name, perms in Role.ROLES.items():
            role = db.session.scalar(select(Role).filter_by(name=name))
            wanted_permissions = sum(perms)
            wanted_default = name == Role.DEFAULT_ROLE
            if role is None:
                role = Role(name=name)
                db.session.add(role)
                changed += 1
            elif (role.permissions != wanted_permissions
                  or bool(role.default) != wanted_default):
                changed += 1
            else:
                continue
            role.permissions = wanted_permissions
            role.default = wanted_default
        if changed:
            db.session.commit()
        return changed

    def add_permission(self, perm):
        if not self.has_permission(perm):
            self.permissions += perm

    def remove_permission(self, perm):
        if self.has_permission(perm):
            self.permissions -= perm

    def reset_permissions(self):
        self.permissions = 0

    def has_permission(self, perm):
        return self.permissions & perm == perm

    def __repr__(self):
        return f'<Role {self.name!r}>'


class Follow(db.Model):
    __tablename__ = 'follows'
    follower_id = db.Column(db.Integer, db.ForeignKey('users.id'),
                            primary_key=True)
    followed_id = db.Column(db.Integer, db.ForeignKey('users.id'),
                            primary_key=True)
    timestamp = db.Column(db.DateTime, default=utcnow)


class User(UserMixin, db.Model):
    __tablename__ = 'users'
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(64), unique=True, index=True)
    username = db.Column(db.String(64), unique=True, index=True)
    role_id = db.Column(db.Integer, db.ForeignKey('roles.id'))
    password_hash = db.Column(db.String(256))
    confirmed = db.Column(db.Boolean, default=False)
    # Added by revision 0002 (nullable: the previous release ignores them).
    name = db.Column(db.String(64))
    location = db.Column(db.String(64))
    about_me = db.Column(db.Text())
    member_since = db.Column(db.DateTime, default=utcnow)
    last_seen = db.Column(db.DateTime, default=utcnow)

    role = db.relationship('Role', back_populates='users')
    posts = db.relationship('Post', back_populates='author', lazy='dynamic')
    followed = db.relationship('Follow',
                               foreign_keys=[Follow.follower_id],
                               backref=db.backref('follower', lazy='joined'),
                               lazy='dynamic',
                               cascade='all, delete-orphan')
    followers = db.relationship('Follow',
                                foreign_keys=[Follow.followed_id],
                                backref=db.backref('followed', lazy='joined'),
                                lazy='dynamic',
                                cascade='all, delete-orphan')

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.role is None:
            self.role = self._initial_role()
        # Everyone follows themselves, so their own posts show up in the
        # "followed" list of the home page.
        self.follow(self)

    def _initial_role(self):
        admin = current_app.config.get('FLASKY_ADMIN')
        # No autoflush: other new users may not be in the session yet.
        with db.session.no_autoflush:
            if admin and self.email and self.email.lower() == admin.lower():
                role = db.session.scalar(
                    select(Role).filter_by(name='Administrator'))
                if role is not None:
                    return role
            return db.session.scalar(select(Role).filter_by(default=True))

    # --- password -----------------------------------------------------

    @property
    def password(self):
        raise AttributeError('password is not a readable attribute')

    @password.setter
    def password(self, password):
        self.password_hash = generate_password_hash(password)

    def verify_password(self, password):
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    # --- account confirmation -----------------------------------------

    @staticmethod
    def _serializer():
        return URLSafeTimedSerializer(current_app.config['SECRET_KEY'],
                                      salt='flasky-confirm')

    def generate_confirmation_token(self):
        return self._serializer().dumps({'confirm': self.id})

    def confirm(self, token, max_age=3600):
        try:
            data = self._serializer().loads(token, max_age=max_age)
        except BadSignature:
            return False
        if data.get('confirm') != self.id:
            return False
        self.confirmed = True
        db.session.add(self)
        return True

    # --- roles ----------------------------------------------------------

    def can(self, perm):
        return self.role is not None and self.role.has_permission(perm)

    def is_administrator(self):
        return self.can(Permission.ADMIN)

    def ping(self, every=timedelta(minutes=1)):
        """Record a visit, writing at most once per ``every``."""
        now = utcnow()
        if self.last_seen is None or now - self.last_seen >= every:
            self.last_seen = now
            db.session.add(self)
            db.session.commit()

    # --- follows ----------------------------------------------------------

    def follow(self, user):
        if self.is_following(user):
            return
        # Setting follower appends to self.followed; the cascade saves the
        # Follow together with a user that is not in the session yet.
        f = Follow(follower=self, followed=user)
        if self.id is not None:
            db.session.add(f)

    def unfollow(self, user):
        if user.id is None or user.id == self.id:
            # The self-follow is permanent.
            return
        f = self.followed.filter_by(followed_id=user.id).first()
        if f:
            db.session.delete(f)

    def is_following(self, user):
        if user.id is None or self.id is None:
            return False
        return self.followed.filter_by(followed_id=user.id).first() is not None

    def is_followed_by(self, user):
        if user.id is None or self.id is None:
            return False
        return self.followers.filter_by(
            follower_id=user.id).first() is not None

    @property
    def followed_posts(self):
        return (select(Post)
                .join(Follow, Follow.followed_id == Post.author_id)
                .where(Follow.follower_id == self.id))

    @staticmethod
    def add_self_follows():
        """Make every user follow themselves; return how many were added.

        Idempotent: users who already follow themselves are left alone.
        Commits when something was added.
        """
        self_follow = aliased(Follow)
        missing = db.session.scalars(
            select(User).outerjoin(
                self_follow,
                and_(self_follow.follower_id == User.id,
                     self_follow.followed_id == User.id))
            .where(self_follow.follower_id.is_(None))).all()
        for user in missing:
            db.session.add(Follow(follower_id=user.id, followed_id=user.id))
        if missing:
            db.session.commit()
        return len(missing)

    def __repr__(self):
        return f'<User {self.username!r}>'


class AnonymousUser(AnonymousUserMixin):
    def can(self, permissions):
        return False

    def is_administrator(self):
        return False


login_manager.anonymous_user = AnonymousUser


@login_manager.user_loader
def load_user(user_id):
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


class Post(db.Model):
    __tablename__ = 'posts'
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text)
    timestamp = db.Column(db.DateTime, index=True, default=utcnow)
    author_id = db.Column(db.Integer, db.ForeignKey('users.id'))
    author = db.relationship('User', back_populates='posts')
