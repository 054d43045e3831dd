-- Boards people can find: each user's starred dashboards and their home dashboard (the one `/`
-- opens). Both are keyed by username (``db copy`` matches rows on it) and by dashboard id; the
-- dashboard store removes a deleted dashboard's stars and homes. SQLite's side is the same
-- tables in dashboard/boards/store.py.

CREATE TABLE dashboard_stars (
    username text NOT NULL,
    dashboard_id text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (username, dashboard_id)
);

CREATE TABLE user_home (
    username text PRIMARY KEY,
    dashboard_id text NOT NULL,
    updated_at bigint NOT NULL
);
