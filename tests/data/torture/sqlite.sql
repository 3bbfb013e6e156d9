-- Torture database for SQLite (issue 15, "How to prove it"): every affinity and common declared type, a
-- WITHOUT ROWID table, a NOT NULL FK cycle (deferrable FKs), a self-reference, composite text keys, marker
-- dates stored as text, infinities, extreme integers, long text and CHECK constraints. Deterministic.
-- SQLite has no schemas to cross (an ATTACHed database cannot hold an FK target) and stores NaN as NULL.
-- Load with load.sh sqlite FILE (or: python3 load_sqlite.py FILE).
PRAGMA foreign_keys = ON;

CREATE TABLE t_affinity (
    id INTEGER PRIMARY KEY,
    i INTEGER NOT NULL,
    r REAL,
    t TEXT,
    b BLOB,
    n NUMERIC,
    v VARCHAR(10) NOT NULL,
    d DATETIME,
    dd DATE,
    flag BOOLEAN NOT NULL,
    dec DECIMAL(10,2),
    bi BIGINT,
    anything,
    CONSTRAINT ck_affinity_v CHECK (length(v) <= 10),
    CONSTRAINT ck_affinity_flag CHECK (flag IN (0, 1))
);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 200)
INSERT INTO t_affinity
SELECT n,
    CASE n WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 WHEN 3 THEN 0 ELSE n * 1000000007 END,
    CASE n WHEN 1 THEN 9e999 WHEN 2 THEN -9e999 WHEN 3 THEN 1.7976931348623157e308 WHEN 4 THEN 4.9e-324
           WHEN 5 THEN -0.0 WHEN 6 THEN NULL ELSE n * 0.1 END,
    CASE WHEN n % 10 = 0 THEN NULL ELSE 'text ' || n END,
    CASE WHEN n % 9 = 0 THEN NULL ELSE randomblob(0) || x'00ffe6' || zeroblob(n % 5) || x'0102' END,
    CASE n % 4 WHEN 0 THEN n WHEN 1 THEN n / 3.0 WHEN 2 THEN '12.50' ELSE NULL END,
    substr('abcdefghij', 1, 1 + n % 10),
    CASE n % 10 WHEN 0 THEN '9999-12-31 23:59:59.999999' WHEN 1 THEN '0001-01-01 00:00:00'
        ELSE strftime('%Y-%m-%d %H:%M:%f', '2020-01-01', '+' || (n * 4623.123) || ' seconds') END,
    CASE n % 10 WHEN 0 THEN '9999-01-01' WHEN 1 THEN '0001-01-01' ELSE date('2020-01-01', '+' || n || ' days') END,
    n % 3 = 0,
    round((n % 97) * 1.37 + 0.5, 2),
    CASE n WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 ELSE n END,
    CASE n % 4 WHEN 0 THEN n WHEN 1 THEN 'str' || n WHEN 2 THEN n * 0.25 ELSE x'cafe' END
FROM g;

CREATE TABLE t_text (
    code TEXT NOT NULL CONSTRAINT pk_t_text PRIMARY KEY,
    c3 CHARACTER(3) NOT NULL,
    body TEXT,
    n_char NCHAR(20),
    clob CLOB,
    CONSTRAINT ck_t_text_code CHECK (code GLOB '[A-Z][A-Z]-[0-9][0-9][0-9][0-9]'),
    CONSTRAINT ck_t_text_c3 CHECK (c3 LIKE 'C%')
) WITHOUT ROWID;
CREATE INDEX ix_t_text_c3 ON t_text (c3);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 150)
INSERT INTO t_text
SELECT char(65 + n % 26) || char(65 + (n / 26) % 26) || '-' || substr('0000' || n, -4),
    'C' || substr('00' || (n % 99), -2),
    CASE WHEN n = 1 THEN replace(hex(zeroblob(51200)), '00', 'xy') WHEN n % 10 = 0 THEN NULL ELSE 'body ' || n END,
    'nchar ' || n,
    'Título ' || n || ' — ünïcödé 😀'
FROM g;

-- the NOT NULL cycle, loaded with deferred checks
CREATE TABLE store (
    store_id INTEGER NOT NULL CONSTRAINT pk_store PRIMARY KEY,
    manager_staff_id INTEGER NOT NULL
        CONSTRAINT fk_store_manager REFERENCES staff (staff_id) DEFERRABLE INITIALLY DEFERRED,
    opened_on DATE NOT NULL
);
CREATE TABLE staff (
    staff_id INTEGER NOT NULL CONSTRAINT pk_staff PRIMARY KEY,
    store_id INTEGER NOT NULL CONSTRAINT fk_staff_store REFERENCES store (store_id) DEFERRABLE INITIALLY DEFERRED,
    reports_to INTEGER CONSTRAINT fk_staff_reports_to REFERENCES staff (staff_id),
    email TEXT NOT NULL CONSTRAINT uq_staff_email UNIQUE,
    hired_at DATETIME NOT NULL,
    salary NUMERIC(12,2) NOT NULL CONSTRAINT ck_staff_salary CHECK (salary > 0)
);
BEGIN;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 8)
INSERT INTO store SELECT n, (n - 1) * 10 + 1, date('2010-01-01', '+' || (n * 100) || ' days') FROM g;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 80)
INSERT INTO staff SELECT n, 1 + (n - 1) / 10, CASE WHEN (n - 1) % 10 = 0 THEN NULL ELSE (n - 1) / 10 * 10 + 1 END,
    'staff' || n || '@example.com', strftime('%Y-%m-%d %H:%M:%f', '2015-03-01 08:00:00', '+' || (n * 259201.125) || ' seconds'),
    30000 + n * 137.5
FROM g;
COMMIT;

CREATE TABLE staff_history (
    staff_id INTEGER NOT NULL CONSTRAINT fk_history_staff REFERENCES staff (staff_id),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    title TEXT NOT NULL,
    CONSTRAINT pk_staff_history PRIMARY KEY (staff_id, from_date),
    CONSTRAINT ck_history_dates CHECK (to_date > from_date)
);
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 80),
     k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 2)
INSERT INTO staff_history
SELECT s.n, date('2015-01-01', '+' || (k.n * 365) || ' days'),
    CASE WHEN k.n = 2 THEN '9999-01-01' ELSE date('2015-01-01', '+' || ((k.n + 1) * 365) || ' days') END,
    CASE k.n WHEN 0 THEN 'Clerk' WHEN 1 THEN 'Senior Clerk' ELSE 'Lead' END
FROM s, k;

-- composite text keys
CREATE TABLE product (
    product_code VARCHAR(5) NOT NULL,
    variant CHAR(2) NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT ck_product_status CHECK (status IN ('active', 'retired', 'draft')),
    list_price DECIMAL(10,2) NOT NULL CONSTRAINT ck_product_price CHECK (list_price >= 0 AND list_price < 100000),
    CONSTRAINT pk_product PRIMARY KEY (product_code, variant)
);
WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 60),
     v(v) AS (SELECT 'SM' UNION ALL SELECT 'XL')
INSERT INTO product
SELECT char(65 + p.n % 26) || char(65 + (p.n * 7) % 26) || '-' || substr('00' || (p.n % 100), -2), v.v,
    'Product ' || p.n || ' ' || v.v, CASE p.n % 4 WHEN 2 THEN 'retired' WHEN 3 THEN 'draft' ELSE 'active' END,
    5 + p.n * 3.25
FROM p, v;

CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id INTEGER NOT NULL CONSTRAINT fk_orders_store REFERENCES store (store_id),
    staff_id INTEGER NOT NULL CONSTRAINT fk_orders_staff REFERENCES staff (staff_id),
    ordered_at DATETIME NOT NULL,
    shipped_at DATETIME,
    discount NUMERIC NOT NULL DEFAULT 0,
    items INTEGER NOT NULL,
    CONSTRAINT ck_orders_shipped CHECK (shipped_at IS NULL OR shipped_at >= ordered_at),
    CONSTRAINT ck_orders_discount CHECK (discount <= items * 10)
);
CREATE INDEX ix_orders_ordered_at ON orders (ordered_at);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300)
INSERT INTO orders (store_id, staff_id, ordered_at, shipped_at, discount, items)
SELECT 1 + n % 8, 1 + (n % 8) * 10 + n % 10,
    strftime('%Y-%m-%d %H:%M:%f', '2023-01-01 09:00:00', '+' || (n * 18000.001) || ' seconds'),
    CASE WHEN n % 6 = 0 THEN NULL
         ELSE strftime('%Y-%m-%d %H:%M:%f', '2023-01-01 09:00:00', '+' || (n * 18000 + 172800.5) || ' seconds') END,
    (n % 4) * 2.5, 1 + n % 9
FROM g;

CREATE TABLE order_line (
    order_id INTEGER NOT NULL CONSTRAINT fk_line_order REFERENCES orders (order_id) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    product_code VARCHAR(5) NOT NULL,
    variant CHAR(2) NOT NULL,
    quantity INTEGER NOT NULL CONSTRAINT ck_line_qty CHECK (quantity > 0),
    CONSTRAINT pk_order_line PRIMARY KEY (order_id, line_no),
    CONSTRAINT fk_line_product FOREIGN KEY (product_code, variant) REFERENCES product (product_code, variant)
) WITHOUT ROWID;
WITH RECURSIVE o(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM o WHERE n < 300),
     l(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM l WHERE n < 3)
INSERT INTO order_line
SELECT o.n, l.n,
    char(65 + ((o.n + l.n) % 60 + 1) % 26) || char(65 + (((o.n + l.n) % 60 + 1) * 7) % 26) || '-'
        || substr('00' || (((o.n + l.n) % 60 + 1) % 100), -2),
    CASE (o.n + l.n) % 2 WHEN 0 THEN 'SM' ELSE 'XL' END, 1 + (o.n * l.n) % 5
FROM o JOIN l ON l.n <= 1 + o.n % 3;
ANALYZE;
