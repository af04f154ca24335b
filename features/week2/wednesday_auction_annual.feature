@week2 @wednesday @auction @annual
Feature: Week 2 Wednesday - annual auction
  The CRR team opens the 2026 annual auction; participants bid and offer within their
  $10 million credit, and re-submit anything that had issues earlier in Market Sim.

  Background:
    Given the Market Sim plan is set up
    And it is Wednesday 10:00 of week 2
    And the CRR team opens the submission window of the market "AUC_AN_2026"
    And I am the participant
    And I work in the annual auction market

  @plan:W2-WED-PORTFOLIOS @plan:W2-WED-BUY-BIDS
  Scenario: Annual buy bids for every season
    When I create the auction portfolio "2026 annual bids" from the file "auction_buy_bids_annual.csv"
    Then the request succeeds
    And the auction portfolio "2026 annual bids" holds 4 bids
    When I submit the auction portfolio "2026 annual bids"
    Then the auction portfolio "2026 annual bids" has status "SUBMITTED"

  @plan:W2-WED-SELL-OFFERS
  Scenario: Offer a held CRR in the annual auction
    Given I hold a CRR for the market's period
    When I create the auction portfolio "2026 annual sell" offering that CRR at 3.00 $/MW
    Then the request succeeds
    And the auction portfolio "2026 annual sell" holds 1 offer

  @plan:W2-WED-CREDIT
  Scenario: The annual portfolio stays within the $10 million credit
    When I create the auction portfolio "2026 annual credit" from the file "auction_buy_bids_annual.csv"
    Then the required credit of the auction portfolio "2026 annual credit" is at most $10,000,000

  @plan:W2-WED-CREDIT @negative
  Scenario: An annual portfolio over the credit limit is not accepted
    When I create the auction portfolio "2026 annual too high" with these bids:
      | source           | sink          | tou | mw   | price   | period   |
      | TH_SP15_GEN-APND | DLAP_SCE-APND | ON  | 4000 | 4000.00 | 2026_S03 |
    And I submit the auction portfolio "2026 annual too high"
    Then the request is refused
    And the auction portfolio "2026 annual too high" is not "SUBMITTED"

  @plan:W2-WED-RESUBMIT
  Scenario: Re-submit a portfolio after fixing it
    When I create the auction portfolio "2026 annual resubmit" from the file "auction_buy_bids_annual.csv"
    And I submit the auction portfolio "2026 annual resubmit"
    And I retract the auction portfolio "2026 annual resubmit"
    Then the auction portfolio "2026 annual resubmit" has status "VALID"
    When I delete the auction portfolio "2026 annual resubmit"
    And I create the auction portfolio "2026 annual resubmit" from the file "auction_buy_bids_annual.csv"
    And I submit the auction portfolio "2026 annual resubmit"
    Then the auction portfolio "2026 annual resubmit" has status "SUBMITTED"

  @plan:W2-WED-BUY-BIDS @negative
  Scenario: A 21-point annual bid curve is refused
    When I create the auction portfolio "2026 annual 21" with one buy bid using the curve "twenty-one points"
    Then the request is refused with HTTP 400

  @plan:W2-WED-PORTFOLIOS @negative
  Scenario: 501 annual bids are refused
    When I create the auction portfolio "2026 annual 501" from the file "auction_bids_501.csv"
    Then the request is refused with HTTP 400

  @plan:W2-WED-PORTFOLIOS @negative
  Scenario: Another participant cannot retract my annual portfolio
    When I create the auction portfolio "2026 annual guarded" from the file "auction_buy_bids_annual.csv"
    And I submit the auction portfolio "2026 annual guarded"
    And participant "WCAL" retracts my auction portfolio "2026 annual guarded"
    Then the request is refused with error "SEC0001"
    And the auction portfolio "2026 annual guarded" has status "SUBMITTED"

  @plan:W2-WED-PORTFOLIOS @negative @readonly
  Scenario: A read-only certificate cannot bid in the annual auction
    Given I am participant "ECAL" using the "ecal-readonly" certificate
    When I create the auction portfolio "2026 annual read-only" from the file "auction_buy_bids_annual.csv"
    Then the request is refused with HTTP 403

  @plan:W2-WED-PORTFOLIOS @negative
  Scenario: Bidding once the CRR team closed the annual auction is refused
    When the CRR team closes the submission window of the market "AUC_AN_2026"
    And I create the auction portfolio "2026 annual late" from the file "auction_buy_bids_annual.csv"
    Then the request is refused with error "MKT0004"
