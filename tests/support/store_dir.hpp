// A test fixture with a fresh temporary directory for a store file, removed after the test, and
// a way to run SQL on that file from outside the store.
#ifndef SALESFLOW_TESTS_SUPPORT_STORE_DIR_HPP_
#define SALESFLOW_TESTS_SUPPORT_STORE_DIR_HPP_

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace salesflow::testing {

class StoreDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/salesflow-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "store.sqlite").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs SQL on the file with the plain SQLite API (as another program would).
  void raw_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::filesystem::path dir_;
  std::string path_;  // dir_/store.sqlite, not created
};

}  // namespace salesflow::testing

#endif  // SALESFLOW_TESTS_SUPPORT_STORE_DIR_HPP_
