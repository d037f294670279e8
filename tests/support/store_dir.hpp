// A test fixture with a fresh temporary directory for a store file, removed after the test.
#ifndef SALESFLOW_TESTS_SUPPORT_STORE_DIR_HPP_
#define SALESFLOW_TESTS_SUPPORT_STORE_DIR_HPP_

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

  std::filesystem::path dir_;
  std::string path_;  // dir_/store.sqlite, not created
};

}  // namespace salesflow::testing

#endif  // SALESFLOW_TESTS_SUPPORT_STORE_DIR_HPP_
