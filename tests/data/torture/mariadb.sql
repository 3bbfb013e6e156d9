-- Torture database for MariaDB (issue 15, "How to prove it"): every type MariaDB has, a NOT NULL FK cycle,
-- a self-reference, composite text keys, marker and zero dates, a SMALLINT FK to an INT key, and one FK into
-- a second database (@EXT@, created by load.sh; MariaDB's "schemas" are databases). Deterministic; uses the
-- SEQUENCE engine (seq_1_to_N). Load with load.sh mariadb DBNAME.
SET NAMES utf8mb4;
SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';  -- allows '0000-00-00' (no NO_ZERO_DATE / STRICT)
SET SESSION foreign_key_checks = 0;               -- the NOT NULL cycle is loaded with the checks off

-- ---- the second database: a lookup table referred to across databases -----------------------------------
CREATE TABLE `@EXT@`.currency (
    currency_code CHAR(3) NOT NULL,
    name VARCHAR(40) NOT NULL,
    CONSTRAINT pk_currency PRIMARY KEY (currency_code)
) ENGINE=InnoDB;
INSERT INTO `@EXT@`.currency VALUES ('EUR', 'Euro'), ('USD', 'US dollar'), ('JPY', 'Yen');

-- ---- numbers ---------------------------------------------------------------------------------------------
CREATE TABLE t_numeric (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    u8 BIGINT UNSIGNED NOT NULL,
    i8 BIGINT NOT NULL,
    u1 TINYINT UNSIGNED NOT NULL,
    i1 TINYINT NOT NULL,
    i2 SMALLINT NOT NULL,
    u3 MEDIUMINT UNSIGNED,
    d65 DECIMAL(65,30) NOT NULL,
    d10 DECIMAL(10,2) NOT NULL,
    f8 DOUBLE,
    f4 FLOAT,
    b1 BIT(1) NOT NULL,
    b8 BIT(8),
    flag BOOLEAN NOT NULL,
    qty INT NOT NULL,
    total DECIMAL(14,2) AS (d10 * qty) STORED,
    CONSTRAINT pk_t_numeric PRIMARY KEY (id),
    CONSTRAINT ck_t_numeric_qty CHECK (qty BETWEEN 1 AND 1000)
) ENGINE=InnoDB COMMENT='numbers at the edges of their types';
INSERT INTO t_numeric (u8, i8, u1, i1, i2, u3, d65, d10, f8, f4, b1, b8, flag, qty)
SELECT CASE seq WHEN 1 THEN 18446744073709551615 WHEN 2 THEN 0 ELSE seq * 1000000007 END,
    CASE seq WHEN 1 THEN -9223372036854775808 WHEN 2 THEN 9223372036854775807 ELSE seq * 1000000007 END,
    CASE seq WHEN 1 THEN 255 ELSE seq % 200 END,
    CASE seq WHEN 1 THEN -128 WHEN 2 THEN 127 ELSE CAST(seq % 100 AS SIGNED) - 50 END,
    CASE seq WHEN 1 THEN -32768 WHEN 2 THEN 32767 ELSE seq END,
    CASE WHEN seq % 7 = 0 THEN NULL WHEN seq = 1 THEN 16777215 ELSE seq * 11 END,
    CAST(CONCAT(seq * 1234567, '.', LPAD(seq, 30, '7')) AS DECIMAL(65,30)),
    ROUND((seq % 97) * 1.37 + 0.5, 2),
    CASE seq WHEN 4 THEN 1.7976931348623157e308 WHEN 5 THEN -2.2250738585072014e-308 WHEN 9 THEN NULL ELSE seq * 0.1 END,
    seq * 0.5,
    seq % 2, seq % 256, seq % 3 = 0, 1 + seq % 20
FROM seq_1_to_200;

-- ---- strings: SET, ENUM, text keys, long text ------------------------------------------------------------
CREATE TABLE t_text (
    id INT NOT NULL,
    features SET('Trailers', 'Commentaries', 'Deleted Scenes', 'Behind the Scenes') NOT NULL,
    rating ENUM('G', 'PG', 'PG-13', 'R', 'NC-17') NOT NULL DEFAULT 'G',
    c3 CHAR(3) NOT NULL,
    code VARCHAR(7) NOT NULL,
    title VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL,
    body LONGTEXT,
    note TINYTEXT,
    CONSTRAINT pk_t_text PRIMARY KEY (id),
    CONSTRAINT uq_t_text_code UNIQUE (code),
    CONSTRAINT ck_t_text_code CHECK (code REGEXP '^[A-Z]{2}-[0-9]{4}$'),
    CONSTRAINT ck_t_text_c3 CHECK (c3 LIKE 'C%')
) ENGINE=InnoDB;
CREATE INDEX ix_t_text_rating ON t_text (rating, c3);
INSERT INTO t_text
SELECT seq,
    CASE seq % 6 WHEN 0 THEN '' WHEN 1 THEN 'Trailers' WHEN 2 THEN 'Trailers,Commentaries'
        WHEN 3 THEN 'Commentaries,Deleted Scenes,Behind the Scenes' WHEN 4 THEN 'Deleted Scenes' ELSE 'Trailers,Behind the Scenes' END,
    ELT(1 + seq % 5, 'G', 'PG', 'PG-13', 'R', 'NC-17'),
    CONCAT('C', LPAD(seq % 99, 2, '0')),
    CONCAT(CHAR(65 + seq % 26), CHAR(65 + FLOOR(seq / 26) % 26), '-', LPAD(seq, 4, '0')),
    CONCAT('Título ', seq, ' — ünïcödé ', CONVERT(CHAR(0x1F600 USING utf32) USING utf8mb4)),
    CASE WHEN seq = 1 THEN REPEAT('long text ', 10240) WHEN seq % 10 = 0 THEN NULL ELSE CONCAT('body ', seq) END,
    CONCAT('n', seq)
FROM seq_1_to_150;

-- ---- dates and times: zero dates, marker dates, fractions, YEAR ------------------------------------------
CREATE TABLE t_time (
    id INT NOT NULL,
    d DATE NOT NULL,
    dt6 DATETIME(6) NOT NULL,
    ts TIMESTAMP(3) NULL,
    t3 TIME(3),
    t_long TIME,
    y YEAR NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    CONSTRAINT pk_t_time PRIMARY KEY (id),
    CONSTRAINT ck_t_time_order CHECK (ends_on >= starts_on)
) ENGINE=InnoDB;
INSERT INTO t_time
SELECT seq,
    CASE seq % 10 WHEN 0 THEN '9999-12-31' WHEN 1 THEN '1000-01-01' WHEN 2 THEN '0000-00-00' WHEN 3 THEN '0001-01-01'
        ELSE '2020-01-01' + INTERVAL seq DAY END,
    CASE seq % 10 WHEN 0 THEN '9999-12-31 23:59:59.999999' WHEN 2 THEN '0000-00-00 00:00:00' WHEN 3 THEN '0001-01-01 00:00:00'
        ELSE TIMESTAMP('2020-01-01 00:00:00') + INTERVAL (seq * 4623123456) MICROSECOND END,
    CASE WHEN seq % 9 = 0 THEN NULL ELSE TIMESTAMP('2021-06-01 12:00:00') + INTERVAL (seq * 2220250000) MICROSECOND END,
    CASE WHEN seq % 11 = 0 THEN NULL ELSE SEC_TO_TIME(seq * 421.123) END,
    CASE seq WHEN 1 THEN '838:59:59' WHEN 2 THEN '-838:59:59' ELSE SEC_TO_TIME(seq * 3000) END,
    CASE seq WHEN 1 THEN 1901 WHEN 2 THEN 2155 WHEN 3 THEN 0 ELSE 1990 + seq % 30 END,
    '2020-01-01' + INTERVAL seq DAY,
    CASE WHEN seq % 3 = 0 THEN '9999-01-01' ELSE '2020-01-01' + INTERVAL (seq + seq % 30) DAY END
FROM seq_1_to_200;

-- ---- binary, JSON, geometry ------------------------------------------------------------------------------
CREATE TABLE t_misc (
    id INT NOT NULL,
    tb TINYBLOB,
    bl BLOB,
    lb LONGBLOB,
    bin16 BINARY(16) NOT NULL,
    vb VARBINARY(64),
    doc JSON,
    shape GEOMETRY,
    location POINT NOT NULL,
    uid CHAR(36) NOT NULL DEFAULT (UUID()),
    CONSTRAINT pk_t_misc PRIMARY KEY (id),
    SPATIAL INDEX sx_t_misc_location (location)
) ENGINE=InnoDB;
INSERT INTO t_misc
SELECT seq,
    CASE WHEN seq % 9 = 0 THEN NULL ELSE UNHEX(MD5(seq)) END,
    CONCAT(UNHEX(MD5(seq)), UNHEX(SHA1(seq)), 0x00FFE6),
    CASE WHEN seq = 1 THEN REPEAT(0xE6, 70000) ELSE UNHEX(SHA2(seq, 256)) END,
    UNHEX(MD5(seq * 3)),
    UNHEX(SHA1(seq * 5)),
    JSON_OBJECT('id', seq, 'tags', JSON_ARRAY('x', seq % 3), 'nested', JSON_OBJECT('ok', seq % 2 = 0)),
    CASE seq % 3 WHEN 0 THEN ST_GeomFromText(CONCAT('POINT(', seq, ' ', seq * 2, ')'))
        WHEN 1 THEN ST_GeomFromText(CONCAT('LINESTRING(0 0, ', seq, ' ', seq, ')'))
        ELSE ST_GeomFromText(CONCAT('POLYGON((0 0, ', seq, ' 0, ', seq, ' ', seq, ', 0 0))')) END,
    ST_GeomFromText(CONCAT('POINT(', seq * 0.5, ' ', -seq * 0.25, ')')),
    CONCAT('00000000-0000-4000-8000-', LPAD(HEX(seq), 12, '0'))
FROM seq_1_to_200;

-- ---- the NOT NULL cycle, a self-reference, marker dates, a cross-database FK -----------------------------
CREATE TABLE store (
    store_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
    manager_staff_id TINYINT UNSIGNED NOT NULL,
    currency_code CHAR(3) NOT NULL,
    opened_on DATE NOT NULL,
    CONSTRAINT pk_store PRIMARY KEY (store_id),
    CONSTRAINT uq_store_manager UNIQUE (manager_staff_id)
) ENGINE=InnoDB;
CREATE TABLE staff (
    staff_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
    store_id TINYINT UNSIGNED NOT NULL,
    reports_to TINYINT UNSIGNED NULL,
    email VARCHAR(50) NOT NULL,
    hired_at DATETIME(3) NOT NULL,
    salary DECIMAL(12,2) NOT NULL,
    CONSTRAINT pk_staff PRIMARY KEY (staff_id),
    CONSTRAINT uq_staff_email UNIQUE (email),
    CONSTRAINT ck_staff_salary CHECK (salary > 0)
) ENGINE=InnoDB;
ALTER TABLE store ADD CONSTRAINT fk_store_manager FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id);
ALTER TABLE store ADD CONSTRAINT fk_store_currency FOREIGN KEY (currency_code) REFERENCES `@EXT@`.currency (currency_code);
ALTER TABLE staff ADD CONSTRAINT fk_staff_store FOREIGN KEY (store_id) REFERENCES store (store_id);
ALTER TABLE staff ADD CONSTRAINT fk_staff_reports_to FOREIGN KEY (reports_to) REFERENCES staff (staff_id);
INSERT INTO store SELECT seq, (seq - 1) * 10 + 1, ELT(1 + seq % 3, 'EUR', 'USD', 'JPY'), '2010-01-01' + INTERVAL (seq * 100) DAY
FROM seq_1_to_8;
INSERT INTO staff SELECT seq, 1 + FLOOR((seq - 1) / 10), IF((seq - 1) % 10 = 0, NULL, FLOOR((seq - 1) / 10) * 10 + 1),
    CONCAT('staff', seq, '@example.com'), TIMESTAMP('2015-03-01 08:00:00') + INTERVAL (seq * 259201125000) MICROSECOND,
    30000 + seq * 137.5
FROM seq_1_to_80;

CREATE TABLE staff_history (
    staff_id TINYINT UNSIGNED NOT NULL,
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    title VARCHAR(20) NOT NULL,
    CONSTRAINT pk_staff_history PRIMARY KEY (staff_id, from_date),
    CONSTRAINT fk_history_staff FOREIGN KEY (staff_id) REFERENCES staff (staff_id),
    CONSTRAINT ck_history_dates CHECK (to_date > from_date)
) ENGINE=InnoDB;
INSERT INTO staff_history
SELECT s.seq, '2015-01-01' + INTERVAL (k.seq * 365) DAY,
    IF(k.seq = 2, '9999-01-01', '2015-01-01' + INTERVAL ((k.seq + 1) * 365) DAY), ELT(1 + k.seq, 'Clerk', 'Senior Clerk', 'Lead')
FROM seq_1_to_80 AS s, seq_0_to_2 AS k;

-- ---- composite text keys; a SMALLINT FK to an INT key ----------------------------------------------------
CREATE TABLE product (
    product_code VARCHAR(5) NOT NULL,
    variant CHAR(2) NOT NULL,
    title VARCHAR(60) NOT NULL,
    status ENUM('active', 'retired', 'draft') NOT NULL,
    list_price DECIMAL(10,2) NOT NULL,
    CONSTRAINT pk_product PRIMARY KEY (product_code, variant),
    CONSTRAINT ck_product_price CHECK (list_price >= 0 AND list_price < 100000),
    CONSTRAINT ck_product_code CHECK (product_code REGEXP '^[A-Z]{2}-[0-9]{2}$')
) ENGINE=InnoDB COMMENT='codes like AB-12, variants like XL';
INSERT INTO product
SELECT CONCAT(CHAR(65 + p.seq % 26), CHAR(65 + (p.seq * 7) % 26), '-', LPAD(p.seq % 100, 2, '0')), v.v,
    CONCAT('Product ', p.seq, ' ', v.v), ELT(1 + p.seq % 4, 'active', 'active', 'retired', 'draft'), 5 + p.seq * 3.25
FROM seq_1_to_60 AS p, (SELECT 'SM' AS v UNION ALL SELECT 'XL') AS v;

CREATE TABLE category (
    category_id INT NOT NULL,
    name VARCHAR(30) NOT NULL,
    CONSTRAINT pk_category PRIMARY KEY (category_id)
) ENGINE=InnoDB;
INSERT INTO category SELECT seq, CONCAT('Category ', seq) FROM seq_1_to_12;

CREATE TABLE orders (
    order_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    store_id TINYINT UNSIGNED NOT NULL,
    staff_id TINYINT UNSIGNED NOT NULL,
    category_id SMALLINT NOT NULL COMMENT 'a SMALLINT referring to an INT key',
    ordered_at DATETIME(6) NOT NULL,
    shipped_at DATETIME(6) NULL,
    discount DECIMAL(8,2) NOT NULL DEFAULT 0,
    items INT NOT NULL,
    CONSTRAINT pk_orders PRIMARY KEY (order_id),
    CONSTRAINT fk_orders_store FOREIGN KEY (store_id) REFERENCES store (store_id),
    CONSTRAINT fk_orders_staff FOREIGN KEY (staff_id) REFERENCES staff (staff_id),
    CONSTRAINT ck_orders_shipped CHECK (shipped_at IS NULL OR shipped_at >= ordered_at),
    CONSTRAINT ck_orders_discount CHECK (discount <= items * 10)
) ENGINE=InnoDB;
-- MariaDB refuses an FK between integer columns of different sizes (error 150): the SMALLINT -> INT key
-- has an index and a comment, and category_id is checked by the tests, not by an FK.
CREATE INDEX ix_orders_category ON orders (category_id);
INSERT INTO orders (store_id, staff_id, category_id, ordered_at, shipped_at, discount, items)
SELECT 1 + seq % 8, 1 + (seq % 8) * 10 + seq % 10, 1 + seq % 12,
    TIMESTAMP('2023-01-01 09:00:00') + INTERVAL (seq * 18000000001) MICROSECOND,
    IF(seq % 6 = 0, NULL, TIMESTAMP('2023-01-01 09:00:00') + INTERVAL (seq * 18000000000 + 172800500000) MICROSECOND),
    (seq % 4) * 2.5, 1 + seq % 9
FROM seq_1_to_300;

CREATE TABLE order_line (
    order_id BIGINT UNSIGNED NOT NULL,
    line_no SMALLINT NOT NULL,
    product_code VARCHAR(5) NOT NULL,
    variant CHAR(2) NOT NULL,
    quantity INT NOT NULL,
    CONSTRAINT pk_order_line PRIMARY KEY (order_id, line_no),
    CONSTRAINT fk_line_order FOREIGN KEY (order_id) REFERENCES orders (order_id) ON DELETE CASCADE,
    CONSTRAINT fk_line_product FOREIGN KEY (product_code, variant) REFERENCES product (product_code, variant),
    CONSTRAINT ck_line_qty CHECK (quantity > 0)
) ENGINE=InnoDB;
INSERT INTO order_line
SELECT o.seq, l.seq,
    CONCAT(CHAR(65 + ((o.seq + l.seq) % 60 + 1) % 26), CHAR(65 + (((o.seq + l.seq) % 60 + 1) * 7) % 26), '-',
           LPAD(((o.seq + l.seq) % 60 + 1) % 100, 2, '0')),
    ELT(1 + (o.seq + l.seq) % 2, 'SM', 'XL'), 1 + (o.seq * l.seq) % 5
FROM seq_1_to_300 AS o JOIN seq_1_to_3 AS l ON l.seq <= 1 + o.seq % 3;

SET SESSION foreign_key_checks = 1;
ANALYZE TABLE t_numeric, t_text, t_time, t_misc, store, staff, staff_history, product, category, orders, order_line;
