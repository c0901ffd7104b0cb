"""Pages: login/logout, registration, confirmation, posts, pagination,
follow/unfollow, error pages, CSP-friendly HTML and static files."""
import os
import re
from datetime import timedelta

from sqlalchemy import select

from flasky import db, mail
from flasky.models import Post, User, utcnow
from tests.conftest import APP_DIR, login, make_user, wait_for


def test_home_page_for_strangers(client):
    r = client.get('/')
    assert r.status_code == 200
    assert 'Hello, Stranger!' in r.get_data(as_text=True)


def test_login_and_logout(client):
    make_user()
    r = login(client, password='dog')
    assert 'Invalid email or password.' in r.get_data(as_text=True)
    r = login(client)
    html = r.get_data(as_text=True)
    assert 'Hello, john!' in html
    assert 'Log Out' in html
    r = client.get('/auth/logout', follow_redirects=True)
    html = r.get_data(as_text=True)
    assert 'You have been logged out.' in html
    assert 'Hello, Stranger!' in html


def test_login_does_not_redirect_off_site(client):
    make_user()
    r = client.post('/auth/login?next=https://evil.example.com/',
                    data={'email': 'john@example.com', 'password': 'cat'})
    assert r.status_code == 302
    assert 'evil' not in r.headers['Location']
    r = client.post('/auth/login?next=/user/john',
                    data={'email': 'john@example.com', 'password': 'cat'})
    assert r.headers['Location'] == '/user/john'


def test_login_required_pages_redirect_to_login(client):
    r = client.get('/edit-profile')
    assert r.status_code == 302
    assert '/auth/login' in r.headers['Location']


def test_register_sends_confirmation_mail(app, client):
    with mail.record_messages() as outbox:
        r = client.post('/auth/register', data={
            'email': 'Susan@Example.org', 'username': 'susan',
            'password': 'dog', 'password2': 'dog'})
        assert r.status_code == 302
        assert r.headers['Location'].endswith('/auth/login')
        assert wait_for(lambda: len(outbox) == 1)
    msg = outbox[0]
    assert msg.recipients == ['susan@example.org']
    assert msg.subject == '[Flasky] Confirm Your Account'
    m = re.search(r'http://localhost/auth/confirm/(\S+)', msg.body)
    assert m, msg.body
    user = db.session.scalar(select(User).filter_by(username='susan'))
    assert user is not None and not user.confirmed
    assert user.is_following(user)

    # Unconfirmed: everything but auth pages leads to /auth/unconfirmed.
    login(client, 'susan@example.org', 'dog')
    r = client.get('/')
    assert r.status_code == 302
    assert r.headers['Location'].endswith('/auth/unconfirmed')
    r = client.get('/auth/confirm/' + m.group(1), follow_redirects=True)
    assert 'You have confirmed your account' in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).confirmed
    assert client.get('/').status_code == 200


def test_register_rejects_duplicates(client):
    make_user()
    r = client.post('/auth/register', data={
        'email': 'john@example.com', 'username': 'john',
        'password': 'dog', 'password2': 'dog'})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'Email already registered.' in html
    assert 'Username already in use.' in html


def test_bad_confirmation_token(client):
    make_user(confirmed=False)
    login(client)
    r = client.get('/auth/confirm/bogus', follow_redirects=True)
    assert 'invalid or has expired' in r.get_data(as_text=True)


def test_write_a_post(client):
    make_user()
    login(client)
    r = client.post('/', data={'body': 'Hello *world*'},
                    follow_redirects=True)
    html = r.get_data(as_text=True)
    assert 'Your post has been published.' in html
    assert 'Hello <em>world</em>' in html
    assert db.session.scalar(select(Post)).author.username == 'john'


def test_posts_are_markdown_cleaned_of_anything_active(client):
    make_user()
    login(client)
    body = ('**bold** and a [link](https://example.com)\n\n- one\n- two\n\n'
            '<script>alert(1)</script><img src=x onerror=alert(2)> [bad](javascript:alert(3))')
    html = client.post('/', data={'body': body}, follow_redirects=True).get_data(as_text=True)
    assert '<strong>bold</strong>' in html
    assert '<a href="https://example.com" rel="nofollow">link</a>' in html
    assert '<li>one</li>' in html
    assert '<script>' not in html and 'onerror' not in html and 'javascript:' not in html


def test_strangers_cannot_post(client):
    r = client.post('/', data={'body': 'spam'})
    assert r.status_code == 200
    assert db.session.scalar(select(Post)) is None


def test_pagination(make_app):
    app = make_app('testing', FLASKY_POSTS_PER_PAGE=10)
    client = app.test_client()
    u = make_user()
    start = utcnow()
    for i in range(25):
        db.session.add(Post(body=f'post number {i:02d}', author=u,
                            timestamp=start + timedelta(seconds=i)))
    db.session.commit()

    def bodies(page):
        html = client.get(f'/?page={page}').get_data(as_text=True)
        return re.findall(r'post number (\d\d)', html), html

    page1, html1 = bodies(1)
    assert page1 == [f'{i:02d}' for i in range(24, 14, -1)]
    assert 'href="/?page=2"' in html1
    page3, html3 = bodies(3)
    assert page3 == ['04', '03', '02', '01', '00']
    assert 'href="/?page=4"' not in html3
    assert bodies(4)[0] == []  # past the end: empty page, not an error
    user_page = client.get('/user/john?page=2').get_data(as_text=True)
    assert re.findall(r'post number (\d\d)', user_page)[0] == '14'


def test_follow_and_unfollow_pages(client):
    make_user('john@example.com', 'john')
    make_user('susan@example.org', 'susan')
    login(client)
    r = client.get('/user/susan')
    html = r.get_data(as_text=True)
    assert 'action="/follow/susan"' in html
    r = client.post('/follow/susan', follow_redirects=True)
    html = r.get_data(as_text=True)
    assert 'You are now following susan.' in html
    assert 'action="/unfollow/susan"' in html
    john = db.session.scalar(select(User).filter_by(username='john'))
    susan = db.session.scalar(select(User).filter_by(username='susan'))
    assert john.is_following(susan)
    followers = client.get('/followers/susan').get_data(as_text=True)
    assert 'href="/user/john"' in followers

    r = client.post('/unfollow/susan', follow_redirects=True)
    assert 'You are not following susan anymore.' in r.get_data(as_text=True)
    db.session.expire_all()
    assert not john.is_following(susan)

    r = client.post('/unfollow/john', follow_redirects=True)
    assert 'You cannot unfollow yourself.' in r.get_data(as_text=True)
    db.session.expire_all()
    assert john.is_following(john)


def test_follow_needs_post_and_login(client):
    make_user('susan@example.org', 'susan')
    assert client.get('/follow/susan').status_code == 405
    r = client.post('/follow/susan')
    assert r.status_code == 302 and '/auth/login' in r.headers['Location']
    make_user()
    login(client)
    assert client.post('/follow/nobody').status_code == 404


def test_followed_tab(client):
    john = make_user('john@example.com', 'john')
    susan = make_user('susan@example.org', 'susan')
    david = make_user('david@example.net', 'david')
    db.session.add_all([Post(body='from susan', author=susan),
                        Post(body='from david', author=david)])
    john.follow(susan)
    db.session.commit()
    login(client)
    client.get('/followed')
    html = client.get('/').get_data(as_text=True)
    assert 'from susan' in html and 'from david' not in html
    client.get('/all')
    html = client.get('/').get_data(as_text=True)
    assert 'from susan' in html and 'from david' in html


def test_edit_profile(client):
    make_user()
    login(client)
    r = client.post('/edit-profile', data={
        'name': 'John Doe', 'location': 'Lisbon', 'about_me': 'Hi there'},
        follow_redirects=True)
    html = r.get_data(as_text=True)
    assert 'John Doe' in html and 'Lisbon' in html and 'Hi there' in html


def test_404_page(client):
    r = client.get('/no/such/page')
    assert r.status_code == 404
    assert 'Not Found' in r.get_data(as_text=True)
    r = client.get('/no/such/page', headers={'Accept': 'application/json'})
    assert r.status_code == 404 and r.get_json() == {'error': 'not found'}


def test_500_page_in_production(make_app):
    app = make_app('production')
    app.add_url_rule('/boom', 'boom', lambda: 1 / 0)
    r = app.test_client().get('/boom')
    assert r.status_code == 500
    assert 'Internal Server Error' in r.get_data(as_text=True)


def test_pages_are_csp_friendly(client):
    make_user()
    login(client)
    for url in ('/', '/user/john', '/auth/register', '/no-such-page',
                '/edit-profile'):
        r = client.get(url)
        assert r.headers['Content-Security-Policy'] == "default-src 'self'"
        html = r.get_data(as_text=True)
        assert '<script' not in html
        assert '<style' not in html
        assert ' style=' not in html
        # Only local assets.
        for ref in re.findall(r'(?:href|src)="([^"]+)"', html):
            assert not ref.startswith(('http:', 'https:', '//')), ref


def test_app_leaves_the_other_security_headers_to_nginx(client):
    # nginx owns them: sent by both, a browser would see each twice.
    for url in ('/', '/no-such-page'):
        r = client.get(url)
        for name in ('X-Frame-Options', 'X-Content-Type-Options',
                     'Referrer-Policy', 'Strict-Transport-Security',
                     'Permissions-Policy'):
            assert name not in r.headers, (url, name)


def test_static_folder_is_app_static(app, client):
    assert app.static_folder == os.path.join(APP_DIR, 'static')
    r = client.get('/static/style.css')
    assert r.status_code == 200
    assert b'.navbar' in r.data
    assert 'href="/static/style.css"' in client.get('/').get_data(
        as_text=True)
